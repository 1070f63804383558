#pragma once

// The trigger server's counters, and their Prometheus text exposition
// (format 0.0.4) for GET /metrics. Every name starts with `runbook_`. Pure:
// the server updates it on its io_context's thread and renders it there.

#include <array>
#include <cstddef>
#include <map>
#include <string>
#include <utility>

#include "runbook/events.hpp"

namespace runbook::serve {

// What is true at the moment of a scrape, read from the run queue.
struct MetricsGauges {
  size_t running = 0;
  size_t queued = 0;
  bool draining = false;
  bool paused = false;
  // Each rule with a breaker: 0 closed, 1 open, 2 half-open.
  std::map<std::string, int> breakers;
};

class Metrics {
 public:
  // Upper bounds (seconds) of the step duration histogram's buckets; +Inf
  // follows.
  static constexpr std::array<double, 11> kStepBuckets = {0.1, 0.5, 1,   5,    10,  30,
                                                          60,  300, 900, 1800, 3600};

  void run_ended(const std::string& runbook, RunState state);
  void step_ended(const std::string& runbook, double seconds);
  // outcome: started, queued, skipped, replaced, paused, failed
  void schedule_fired(const std::string& schedule, const std::string& outcome);
  void http_request(const std::string& route, int status);
  void config_reloaded(bool ok);
  void alert_received(const std::string& receiver);
  // rule "" for no_match
  void alert_decided(const std::string& rule, const std::string& decision);
  void escalated(const std::string& rule, bool ok);

  std::string render(const MetricsGauges& gauges) const;

 private:
  struct Histogram {
    std::array<unsigned long long, kStepBuckets.size()> buckets{};  // not cumulative
    unsigned long long count = 0;
    double sum = 0;
  };
  using Labels = std::pair<std::string, std::string>;
  std::map<Labels, unsigned long long> runs_;                  // (runbook, state)
  std::map<std::string, Histogram> steps_;                     // by runbook
  std::map<Labels, unsigned long long> fires_;                 // (schedule, outcome)
  std::map<Labels, unsigned long long> requests_;              // (route, code)
  std::array<unsigned long long, 2> reloads_{};                // error, ok
  std::map<std::string, unsigned long long> alerts_received_;  // by receiver
  std::map<Labels, unsigned long long> decisions_;             // (rule, decision)
  std::map<Labels, unsigned long long> escalations_;           // (rule, result)
};

// A label value escaped for the text format: \ " and newline.
std::string escape_label_value(const std::string& value);

}  // namespace runbook::serve
