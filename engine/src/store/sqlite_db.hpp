#pragma once

// A thin layer over the SQLite C API for the history: a connection and
// prepared statements with typed binds and columns. Failures throw
// SqliteError; the history's callers turn that into a message.

#include <sqlite3.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

namespace runbook::store {

class SqliteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Statement;

class Database {
 public:
  enum class Mode { read_write_create, read_write, read_only };
  // Opens `path` with a busy timeout, so that other processes writing at the
  // same moment make it wait, not fail.
  Database(const std::string& path, Mode mode);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(const char* sql);
  Statement prepare(const char* sql);
  // The statement for `sql`, prepared on first use and kept for the life of
  // the connection (a writer that runs the same few statements for every
  // step parses each once), reset and ready to bind.
  Statement& cached(const std::string& sql);
  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  std::unordered_map<std::string, std::unique_ptr<Statement>> cache_;
};

class Statement {
 public:
  Statement(Database& db, const char* sql);
  ~Statement();
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
    other.stmt_ = nullptr;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based. An empty optional or empty text binds NULL.
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, long long value);
  Statement& bind(int index, std::optional<long long> value);
  Statement& bind_null(int index);
  // True while there is a row; false when done.
  bool step();
  // Runs a statement that returns no rows, then resets it for reuse.
  void run();
  void reset();

  std::string text(int column) const;  // NULL reads as ""
  long long integer(int column) const;
  std::optional<long long> maybe_integer(int column) const;

 private:
  Database* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE … COMMIT; rolls back when destroyed uncommitted.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Database& db_;
  bool open_ = true;
};

}  // namespace runbook::store
