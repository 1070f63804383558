#pragma once

#include <cstdio>
#include <memory>

#include "runbook/events.hpp"

namespace runbook {

struct TerminalOptions {
  std::FILE* out = stdout;
  bool live = false;   // a terminal: the live board; otherwise plain prefixed lines
  bool color = false;  // ANSI colours (off with NO_COLOR or when not a terminal)
  int width = 100;     // columns, for the live board
};

// The human display: a live board on a terminal, "HH:MM:SS step | line" lines
// otherwise, and a summary table at the end.
std::unique_ptr<EventSink> make_terminal_sink(const TerminalOptions& options);

// One JSON object per event and line: {"event": "step.ended", "ts": …}.
std::unique_ptr<EventSink> make_json_sink(std::FILE* out);

}  // namespace runbook
