#include "store/sqlite_db.hpp"

namespace runbook::store {
namespace {

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
  throw SqliteError(what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

}  // namespace

Database::Database(const std::string& path, Mode mode) : path_(path) {
  int flags = SQLITE_OPEN_NOMUTEX;
  flags |= mode == Mode::read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (mode == Mode::read_write_create) flags |= SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw SqliteError("cannot open " + path + ": " + message);
  }
  sqlite3_busy_timeout(db_, 10000);
}

Database::~Database() {
  cache_.clear();  // finalized before the connection closes
  sqlite3_close_v2(db_);
}

void Database::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errmsg(db_);
    sqlite3_free(message);
    throw SqliteError(path_ + ": " + text);
  }
}

Statement Database::prepare(const char* sql) {
  return Statement(*this, sql);
}

Statement& Database::cached(const std::string& sql) {
  std::unique_ptr<Statement>& statement = cache_[sql];
  if (!statement) {
    statement = std::make_unique<Statement>(*this, sql.c_str());
  } else {
    statement->reset();  // a use that threw may have left it stepped or bound
  }
  return *statement;
}

Statement::Statement(Database& db, const char* sql) : db_(&db) {
  if (sqlite3_prepare_v2(db.handle(), sql, -1, &stmt_, nullptr) != SQLITE_OK)
    fail(db.handle(), db.path());
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int index, std::string_view text) {
  int rc = text.empty()
               ? sqlite3_bind_null(stmt_, index)
               : sqlite3_bind_text(stmt_, index, text.data(), int(text.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail(db_->handle(), db_->path());
  return *this;
}

Statement& Statement::bind(int index, long long value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) fail(db_->handle(), db_->path());
  return *this;
}

Statement& Statement::bind(int index, std::optional<long long> value) {
  return value ? bind(index, *value) : bind_null(index);
}

Statement& Statement::bind_null(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) fail(db_->handle(), db_->path());
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_->handle(), db_->path());
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Statement::text(int column) const {
  const unsigned char* t = sqlite3_column_text(stmt_, column);
  return t ? std::string(reinterpret_cast<const char*>(t),
                         size_t(sqlite3_column_bytes(stmt_, column)))
           : std::string();
}

long long Statement::integer(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::optional<long long> Statement::maybe_integer(int column) const {
  if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(stmt_, column);
}

Transaction::Transaction(Database& db) : db_(db) {
  db_.exec("BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
  if (open_) {
    try {
      db_.exec("ROLLBACK");
    } catch (const SqliteError&) {
      // Nothing more to do: the connection is going away or already rolled back.
    }
  }
}

void Transaction::commit() {
  db_.exec("COMMIT");
  open_ = false;
}

}  // namespace runbook::store
