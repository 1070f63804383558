#include "store/history_db.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>

#include "runbook/store.hpp"
#include "util/files.hpp"

namespace runbook::store {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  runbook TEXT NOT NULL DEFAULT '',
  path TEXT,
  sha256 TEXT,
  params TEXT,
  trigger TEXT,
  user TEXT,
  uid INTEGER,
  sudo_user TEXT,
  host TEXT,
  pid INTEGER,
  pid_start INTEGER,
  started_at TEXT,
  ended_at TEXT,
  state TEXT NOT NULL,
  exit_code INTEGER,
  message TEXT,
  rollback_state TEXT,
  rolled_back_at TEXT,
  resumes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started_at);
CREATE TABLE IF NOT EXISTS steps (
  run_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  start_order INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL,
  started_at TEXT,
  ended_at TEXT,
  exit_code INTEGER,
  signal INTEGER,
  duration_ms INTEGER,
  log_path TEXT,
  message TEXT,
  outputs TEXT,
  PRIMARY KEY (run_id, step_id)
);
CREATE TABLE IF NOT EXISTS attempts (
  run_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  state TEXT NOT NULL,
  started_at TEXT,
  ended_at TEXT,
  exit_code INTEGER,
  signal INTEGER,
  duration_ms INTEGER,
  message TEXT,
  PRIMARY KEY (run_id, step_id, attempt)
);
CREATE TABLE IF NOT EXISTS rollbacks (
  run_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  state TEXT NOT NULL,
  started_at TEXT,
  ended_at TEXT,
  exit_code INTEGER,
  signal INTEGER,
  duration_ms INTEGER,
  log_path TEXT,
  message TEXT,
  PRIMARY KEY (run_id, step_id)
);
CREATE TABLE IF NOT EXISTS hooks (
  run_id TEXT NOT NULL,
  hook_id TEXT NOT NULL,
  start_order INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL,
  started_at TEXT,
  ended_at TEXT,
  exit_code INTEGER,
  signal INTEGER,
  duration_ms INTEGER,
  log_path TEXT,
  message TEXT,
  PRIMARY KEY (run_id, hook_id)
);
)sql";

// The version of the schema above with the columns added since; a database
// at this version needs no CREATE or ALTER.
constexpr long long kSchemaVersion = 2;
constexpr const char* kSchemaVersionPragma = "PRAGMA user_version = 2";

// Databases made by an earlier version gain the columns added since.
void add_missing_columns(Database& db) {
  bool missing = false;
  {
    Statement has_outputs =
        db.prepare("SELECT count(*) FROM pragma_table_info('steps') WHERE name = 'outputs'");
    missing = has_outputs.step() && has_outputs.integer(0) == 0;
  }
  if (missing) db.exec("ALTER TABLE steps ADD COLUMN outputs TEXT");
}

}  // namespace

std::unique_ptr<Database> open_history_for_writing(const std::string& state_dir) {
  std::string error;
  if (!make_directories(state_dir, &error, 0700)) throw SqliteError(error);
  // Creating the file, switching it to WAL and creating the schema are
  // serialised across processes: two runs starting at once on a new state
  // directory could otherwise get SQLITE_BUSY from the journal-mode switch,
  // which SQLite reports without waiting, and lose a run's history.
  const std::string lock_path = history_db_path(state_dir) + ".lock";
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) throw SqliteError("cannot open " + lock_path + ": " + std::strerror(errno));
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }  // closing releases the flock
  } unlock{lock_fd};
  while (::flock(lock_fd, LOCK_EX) != 0) {
    if (errno != EINTR) throw SqliteError("cannot lock " + lock_path + ": " + std::strerror(errno));
  }
  auto db =
      std::make_unique<Database>(history_db_path(state_dir), Database::Mode::read_write_create);
  db->exec("PRAGMA journal_mode = WAL");
  db->exec("PRAGMA synchronous = NORMAL");
  // The WAL is kept between runs and checkpointed as it grows, not each time
  // a run ends: a short run costs no checkpoint and no new WAL file.
  int on = 1;
  sqlite3_file_control(db->handle(), "main", SQLITE_FCNTL_PERSIST_WAL, &on);
  sqlite3_db_config(db->handle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  {
    Statement version = db->prepare("PRAGMA user_version");
    if (version.step() && version.integer(0) >= kSchemaVersion) return db;
  }
  Transaction schema(*db);
  db->exec(kSchema);
  add_missing_columns(*db);
  db->exec(kSchemaVersionPragma);
  schema.commit();
  return db;
}

void checkpoint_history_if_large(Database& db, const std::string& state_dir) {
  constexpr off_t kLargeWal = 256 * 1024;
  struct stat st {};
  const std::string wal = history_db_path(state_dir) + "-wal";
  if (::stat(wal.c_str(), &st) == 0 && st.st_size > kLargeWal)
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

std::unique_ptr<Database> open_history_for_reading(const std::string& state_dir) {
  std::string path = history_db_path(state_dir);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) return nullptr;
  auto db = std::make_unique<Database>(path, Database::Mode::read_write);
  {
    Statement tables = db->prepare("SELECT count(*) FROM sqlite_master WHERE name = 'runs'");
    if (!tables.step() || tables.integer(0) == 0) return nullptr;
  }
  add_missing_columns(*db);
  return db;
}

std::optional<ProcessInfo> process_info(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  std::string stat = s.str();
  // The command name (field 2) may hold spaces and parentheses: count from
  // the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return std::nullopt;
  std::istringstream fields(stat.substr(close + 2));
  ProcessInfo info;
  std::string field;
  // Field 3 is the state; field 22 the start time.
  for (int i = 3; i <= 22; ++i) {
    if (!(fields >> field)) return std::nullopt;
    if (i == 3) info.state = field[0];
  }
  try {
    info.start_ticks = std::stoll(field);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return info;
}

bool engine_is_gone(const std::string& host, long pid, std::optional<long long> pid_start) {
  if (pid <= 0) return false;
  char here[HOST_NAME_MAX + 1] = {};
  ::gethostname(here, sizeof here - 1);
  if (host != here) return false;
  if (::kill(pid_t(pid), 0) != 0 && errno == ESRCH) return true;
  std::optional<ProcessInfo> info = process_info(pid);
  if (!info) return false;  // no /proc: trust kill()
  // A zombie has ended; another start time means the pid was reused.
  return info->state == 'Z' || info->state == 'X' || (pid_start && info->start_ticks != *pid_start);
}

}  // namespace runbook::store
