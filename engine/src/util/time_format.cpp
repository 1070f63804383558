#include "util/time_format.hpp"

#include <cstdio>
#include <ctime>

namespace runbook {

namespace {

// The text of one second, formatted again only when the second changes:
// formatting a date is the slow part, and lines come many per second.
class SecondCache {
 public:
  SecondCache(const char* format, bool local) : format_(format), local_(local) {}
  const char* text(std::time_t secs) {
    if (secs != secs_) {
      std::tm tm{};
      if (local_) {
        localtime_r(&secs, &tm);
      } else {
        gmtime_r(&secs, &tm);
      }
      std::strftime(text_, sizeof text_, format_, &tm);
      secs_ = secs;
    }
    return text_;
  }

 private:
  const char* format_;
  bool local_;
  std::time_t secs_ = -1;
  char text_[32] = {};
};

}  // namespace

std::string format_rfc3339(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  thread_local SecondCache utc("%Y-%m-%dT%H:%M:%S", /*local=*/false);
  std::string out = utc.text(std::time_t(ms / 1000));
  int milli = int(ms % 1000);
  out += '.';
  out += char('0' + milli / 100);
  out += char('0' + milli / 10 % 10);
  out += char('0' + milli % 10);
  out += 'Z';
  return out;
}

std::string format_clock(std::chrono::system_clock::time_point t) {
  thread_local SecondCache local("%H:%M:%S", /*local=*/true);
  return local.text(std::chrono::system_clock::to_time_t(t));
}

std::string format_elapsed(std::chrono::milliseconds d) {
  long long ms = d.count();
  char out[32];
  if (ms < 1000) {
    std::snprintf(out, sizeof out, "%lldms", ms);
  } else if (ms < 60'000) {
    std::snprintf(out, sizeof out, "%.1fs", double(ms) / 1000);
  } else if (ms < 3'600'000) {
    std::snprintf(out, sizeof out, "%lldm%02llds", ms / 60'000, (ms / 1000) % 60);
  } else {
    std::snprintf(out, sizeof out, "%lldh%02lldm", ms / 3'600'000, (ms / 60'000) % 60);
  }
  return out;
}

}  // namespace runbook
