#pragma once

// The history database: its schema, and opening it for the sink (creating
// it) or for queries (never creating it).

#include <memory>
#include <optional>
#include <string>

#include "store/sqlite_db.hpp"

namespace runbook::store {

// Opens STATE/history.db, creating it and its schema when missing: WAL
// journal (readers never block the writer), synchronous=NORMAL: a commit
// survives the engine being killed, and the database stays consistent after a
// power cut, which may lose the last commits. What must survive a power cut
// is in the audit log, fsync'd before each step starts. Throws SqliteError.
std::unique_ptr<Database> open_history_for_writing(const std::string& state_dir);

// Called by a writer that is done: when the WAL has grown past a few hundred
// KiB, copies it into the database and empties it. The next process to open
// the history reads the whole WAL back first, so it must stay small; doing
// this at every close would cost each short run two syncs.
void checkpoint_history_if_large(Database& db, const std::string& state_dir);

// Opens an existing history for queries; nullptr when there is none yet.
// Throws SqliteError when it exists but cannot be read.
std::unique_ptr<Database> open_history_for_reading(const std::string& state_dir);

struct ProcessInfo {
  char state = '?';           // R, S, D, Z (zombie), …
  long long start_ticks = 0;  // when it started, in clock ticks after boot
};
// What /proc/PID/stat says of `pid`; nullopt when there is no such process.
// The start time tells a pid reused by another process from the engine that
// wrote a history row.
std::optional<ProcessInfo> process_info(long pid);

// Whether the engine of a run recorded as running on `host` with `pid` (and
// `pid_start`, when known) is gone. Runs of other hosts are never judged gone.
bool engine_is_gone(const std::string& host, long pid, std::optional<long long> pid_start);

}  // namespace runbook::store
