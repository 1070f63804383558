#include "exec/plugin_runner.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cctype>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>

#include "runbook/expr.hpp"
#include "runbook/plugin.h"
#include "util/time_format.hpp"

namespace asio = boost::asio;

namespace runbook::exec {

namespace {

std::atomic<int> abandoned_threads{0};

bool is_output_name(std::string_view key) {
  if (key.empty()) return false;
  auto first = static_cast<unsigned char>(key[0]);
  if (!std::isalpha(first) && key[0] != '_') return false;
  for (char c : key)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  return true;
}

}  // namespace

// What the worker thread and the executor's thread share. The io_context is
// only posted to while `attached` (under `mutex`): once the call ended on the
// executor's side, the io_context may be gone.
struct PluginCallState {
  std::mutex mutex;
  std::condition_variable wake;  // sleep_ms ends early on cancel
  std::atomic<bool> cancelled{false};
  asio::io_context* io = nullptr;
  std::weak_ptr<PluginRunner::Call> owner;
  std::optional<std::chrono::steady_clock::time_point> ends_at;

  // Under mutex.
  bool attached = true;
  bool returned = false;
  bool abandoned = false;
  std::string message;
  std::map<std::string, std::string> outputs;
  size_t output_bytes = 0;
  std::string outputs_error;

  // Runs `fn` on the executor's thread with the call, if it still listens.
  template <typename Fn>
  void deliver(Fn fn) {
    std::lock_guard lock(mutex);
    if (!attached) return;
    asio::post(*io, [owner = owner, fn = std::move(fn)]() mutable {
      if (auto call = owner.lock()) fn(*call);
    });
  }
};

namespace {

PluginCallState& state_of(void* ctx) {
  return *static_cast<PluginCallState*>(ctx);
}

void host_output(void* ctx, const char* key, const char* value, size_t size) {
  PluginCallState& st = state_of(ctx);
  std::lock_guard lock(st.mutex);
  std::string name = key ? key : "";
  if (!is_output_name(name)) {
    if (st.outputs_error.empty())
      st.outputs_error = "the plugin set an output with an invalid name '" + name + "'";
    return;
  }
  std::string text(value ? value : "", value ? size : 0);
  auto it = st.outputs.find(name);
  if (it != st.outputs.end()) st.output_bytes -= it->first.size() + it->second.size();
  st.output_bytes += name.size() + text.size();
  if (st.output_bytes > kMaxOutputBytes && st.outputs_error.empty())
    st.outputs_error = "the plugin's outputs are over the 1 MiB limit";
  st.outputs[name] = std::move(text);
}

void host_message(void* ctx, const char* text) {
  PluginCallState& st = state_of(ctx);
  std::lock_guard lock(st.mutex);
  st.message = text ? text : "";
  // One line: the rest would break the display.
  for (char& c : st.message)
    if (c == '\n' || c == '\r') c = ' ';
}

int host_cancelled(void* ctx) {
  return state_of(ctx).cancelled.load() ? 1 : 0;
}

int64_t host_remaining_ms(void* ctx) {
  PluginCallState& st = state_of(ctx);
  if (!st.ends_at) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      *st.ends_at - std::chrono::steady_clock::now());
  return std::max<int64_t>(0, left.count());
}

int host_sleep_ms(void* ctx, int64_t ms) {
  PluginCallState& st = state_of(ctx);
  // Clamped: a huge `ms` ("until cancelled") would overflow the clock's
  // nanoseconds and return at once.
  constexpr int64_t kDay = 86'400'000;
  std::unique_lock lock(st.mutex);
  bool cancelled =
      st.wake.wait_for(lock, std::chrono::milliseconds(std::clamp<int64_t>(ms, 0, kDay)),
                       [&] { return st.cancelled.load(); });
  return cancelled ? 1 : 0;
}

void run_on_worker(std::shared_ptr<PluginCallState> st, const runbook_step_kind* kind,
                   std::string with_json, std::string context_json) {
  runbook_run_host host{};
  host.ctx = st.get();
  host.context_json = context_json.c_str();
  host.log = [](void* ctx, runbook_stream stream, const char* text, size_t size) {
    if (!text || size == 0) return;
    OutputStream to = stream == RUNBOOK_STDERR ? OutputStream::err : OutputStream::out;
    state_of(ctx).deliver([to, chunk = std::string(text, size)](PluginRunner::Call& call) {
      call.deliver_output(to, chunk);
    });
  };
  host.output = host_output;
  host.message = host_message;
  host.cancelled = host_cancelled;
  host.remaining_ms = host_remaining_ms;
  host.sleep_ms = host_sleep_ms;

  runbook_status status = kind->run(&host, with_json.c_str());

  std::lock_guard lock(st->mutex);
  st->returned = true;
  if (st->abandoned) {
    --abandoned_threads;
    return;
  }
  if (!st->attached) return;
  asio::post(*st->io, [owner = st->owner, status] {
    if (auto call = owner.lock()) call->on_returned(status);
  });
}

}  // namespace

PluginRunner::~PluginRunner() {
  kill_all();
}

std::shared_ptr<PluginRunner::Call> PluginRunner::start(PluginCallSpec spec,
                                                        OutputHandler on_output,
                                                        ExitHandler on_exit) {
  auto call =
      std::make_shared<Call>(io_, std::move(spec), std::move(on_output), std::move(on_exit));
  std::erase_if(calls_, [](const std::weak_ptr<Call>& c) { return c.expired(); });
  calls_.push_back(call);
  call->launch();
  return call;
}

void PluginRunner::kill_all() {
  for (auto& weak : calls_)
    if (auto call = weak.lock()) call->kill();
}

PluginRunner::Call::Call(asio::io_context& io, PluginCallSpec spec, OutputHandler on_output,
                         ExitHandler on_exit)
    : io_(io),
      spec_(std::move(spec)),
      on_output_(std::move(on_output)),
      on_exit_(std::move(on_exit)),
      state_(std::make_shared<PluginCallState>()),
      grace_timer_(io) {}

PluginRunner::Call::~Call() {
  // Whatever happens to the worker from now on, it posts nothing; one still
  // in the plugin is abandoned, and counted so that the process ends safely.
  std::lock_guard lock(state_->mutex);
  state_->attached = false;
  if (!state_->returned && !state_->abandoned) {
    state_->abandoned = true;
    ++abandoned_threads;
  }
}

void PluginRunner::Call::launch() {
  state_->io = &io_;
  state_->owner = weak_from_this();
  state_->ends_at = spec_.ends_at;
  try {
    std::thread(run_on_worker, state_, spec_.kind, spec_.with_json, spec_.context_json).detach();
  } catch (const std::system_error& e) {
    {
      std::lock_guard lock(state_->mutex);
      state_->returned = true;  // there is no thread to abandon
    }
    std::string why = e.what();
    asio::post(io_, [self = shared_from_this(), why] {
      PluginExit exit;
      exit.status = PluginExit::Status::failed;
      exit.message = "could not start a thread for the plugin: " + why;
      self->finish(std::move(exit));
    });
  }
}

void PluginRunner::Call::deliver_output(OutputStream stream, const std::string& chunk) {
  if (!ended_) on_output_(stream, chunk);
}

void PluginRunner::Call::on_returned(runbook_status status) {
  if (ended_) return;
  PluginExit exit;
  {
    std::lock_guard lock(state_->mutex);
    state_->attached = false;
    exit.message = std::move(state_->message);
    exit.outputs = std::move(state_->outputs);
    exit.outputs_error = std::move(state_->outputs_error);
  }
  switch (status) {
    case RUNBOOK_SUCCEEDED:
      exit.status = PluginExit::Status::succeeded;
      break;
    case RUNBOOK_RETRYABLE:
      exit.status = PluginExit::Status::retryable;
      break;
    default:
      exit.status = PluginExit::Status::failed;
      break;
  }
  finish(std::move(exit));
}

void PluginRunner::Call::stop() {
  if (ended_ || stopping_) return;
  stopping_ = true;
  {
    std::lock_guard lock(state_->mutex);
    state_->cancelled = true;
  }
  state_->wake.notify_all();
  grace_timer_.expires_after(spec_.kill_grace);
  grace_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->ended_) return;
    self->abandon("the plugin did not stop within " + format_duration(self->spec_.kill_grace) +
                  " of being asked to; its thread was abandoned");
  });
}

void PluginRunner::Call::kill() {
  if (ended_) return;
  {
    std::lock_guard lock(state_->mutex);
    state_->cancelled = true;
  }
  state_->wake.notify_all();
  abandon("stopped at once; the plugin's thread was abandoned");
}

void PluginRunner::Call::abandon(const std::string& why) {
  {
    std::lock_guard lock(state_->mutex);
    if (state_->returned) {
      // It returned and its end is on the way: let it arrive.
      if (state_->attached) return;
    } else {
      state_->abandoned = true;
      ++abandoned_threads;
    }
    state_->attached = false;
  }
  PluginExit exit;
  exit.status = PluginExit::Status::abandoned;
  exit.message = why;
  finish(std::move(exit));
}

void PluginRunner::Call::finish(PluginExit exit) {
  if (ended_) return;
  auto self = shared_from_this();  // on_exit_ may drop the last other reference
  ended_ = true;
  grace_timer_.cancel();
  on_exit_(exit);
}

}  // namespace runbook::exec

namespace runbook {

int abandoned_plugin_threads() {
  return exec::abandoned_threads.load();
}

}  // namespace runbook
