#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "runbook/store.hpp"
#include "temp_dir.hpp"

using namespace runbook;
using namespace std::chrono_literals;
using runbook::store_test::TempDir;

TEST_CASE("a second lock on the same key is refused and names the holder") {
  TempDir dir;
  LockAttempt first = acquire_run_lock(dir.path(), "restart-web", "20261121-153012-7f3a");
  REQUIRE(first.outcome == LockAttempt::Outcome::acquired);
  CHECK(first.lock.held());
  LockAttempt second = acquire_run_lock(dir.path(), "restart-web", "20261121-153013-0000");
  CHECK(second.outcome == LockAttempt::Outcome::held);
  CHECK_FALSE(second.lock.held());
  REQUIRE(second.holder);
  CHECK(second.holder->run_id == "20261121-153012-7f3a");
  CHECK(second.holder->pid == long(::getpid()));
  CHECK(second.message.find("lock 'restart-web' is held by run 20261121-153012-7f3a (pid " +
                            std::to_string(::getpid()) + " on host ") == 0);
  CHECK(second.message.find(" since ") != std::string::npos);
}

TEST_CASE("locks on different keys do not conflict") {
  TempDir dir;
  LockAttempt a = acquire_run_lock(dir.path(), "restart-web", "r1");
  LockAttempt b = acquire_run_lock(dir.path(), "restart-db", "r2");
  CHECK(a.outcome == LockAttempt::Outcome::acquired);
  CHECK(b.outcome == LockAttempt::Outcome::acquired);
}

TEST_CASE("a released lock can be taken again") {
  TempDir dir;
  LockAttempt a = acquire_run_lock(dir.path(), "k", "r1");
  REQUIRE(a.outcome == LockAttempt::Outcome::acquired);
  a.lock.release();
  CHECK_FALSE(a.lock.held());
  LockAttempt b = acquire_run_lock(dir.path(), "k", "r2");
  CHECK(b.outcome == LockAttempt::Outcome::acquired);
  {
    RunLock moved = std::move(b.lock);
    CHECK(moved.held());
  }  // destroyed: released
  CHECK(acquire_run_lock(dir.path(), "k", "r3").outcome == LockAttempt::Outcome::acquired);
}

TEST_CASE("waiting for a lock succeeds once its holder lets go" * doctest::timeout(10)) {
  TempDir dir;
  LockAttempt a = acquire_run_lock(dir.path(), "k", "r1");
  REQUIRE(a.outcome == LockAttempt::Outcome::acquired);
  std::thread holder([&] {
    std::this_thread::sleep_for(300ms);
    a.lock.release();
  });
  auto start = std::chrono::steady_clock::now();
  LockAttempt b = acquire_run_lock(dir.path(), "k", "r2", 5s);
  holder.join();
  CHECK(b.outcome == LockAttempt::Outcome::acquired);
  CHECK(std::chrono::steady_clock::now() - start >= 250ms);
}

TEST_CASE("waiting for a lock gives up after the wait" * doctest::timeout(10)) {
  TempDir dir;
  LockAttempt a = acquire_run_lock(dir.path(), "k", "r1");
  auto start = std::chrono::steady_clock::now();
  LockAttempt b = acquire_run_lock(dir.path(), "k", "r2", 300ms);
  auto waited = std::chrono::steady_clock::now() - start;
  CHECK(b.outcome == LockAttempt::Outcome::held);
  CHECK(waited >= 300ms);
  CHECK(waited < 2s);
}

TEST_CASE("lock file names are safe and distinct keys get distinct files") {
  std::string name = lock_file_name("restart-web");
  CHECK(name.rfind("restart-web-", 0) == 0);
  CHECK(name.size() == std::string("restart-web-").size() + 8 + 5);
  CHECK(name.substr(name.size() - 5) == ".lock");
  std::string slashed = lock_file_name("../etc/passwd");
  CHECK(slashed.find('/') == std::string::npos);
  CHECK(slashed[0] != '.');
  CHECK(lock_file_name("a/b") != lock_file_name("a_b"));
  CHECK(lock_file_name(std::string(500, 'x')).size() < 100);
}

TEST_CASE("a lock directory that cannot be made is an error, not a held lock") {
  TempDir dir;
  runbook::store_test::write_text(dir / "state", "x");
  LockAttempt a = acquire_run_lock(dir / "state", "k", "r1");
  CHECK(a.outcome == LockAttempt::Outcome::error);
  CHECK(a.message.find("cannot use lock 'k'") == 0);
}
