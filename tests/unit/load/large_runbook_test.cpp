#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>

#include "runbook/load.hpp"

using namespace runbook;

TEST_CASE("a runbook of 10,000 chained steps loads and validates" * doctest::timeout(60)) {
  constexpr int kSteps = 10'000;
  std::string text = "version: 1\nname: big\ndefaults: {timeout: 30s}\nsteps:\n";
  text.reserve(kSteps * 90);
  for (int i = 0; i < kSteps; ++i) {
    text += "  - id: step-" + std::to_string(i) + "\n    run: echo " + std::to_string(i) + "\n";
    if (i > 0) {
      text += "    needs: [step-" + std::to_string(i - 1);
      if (i > 10) text += ", step-" + std::to_string(i - 10);
      if (i > 100) text += ", step-" + std::to_string(i / 2);
      text += "]\n";
    }
  }
  const auto start = std::chrono::steady_clock::now();
  LoadResult r = load_runbook_text(text, "big.yaml");
  const auto took = std::chrono::steady_clock::now() - start;
  MESSAGE("loaded 10,000 steps in "
          << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
  INFO(r.diagnostics.format().substr(0, 2000));
  REQUIRE(r.ok());
  CHECK(r.runbook->steps.size() == kSteps);
  CHECK(r.runbook->steps.back().needs.size() == 3);
}

TEST_CASE("a cycle through 10,000 steps is found and reported once") {
  constexpr int kSteps = 10'000;
  std::string text = "version: 1\nname: big\nsteps:\n";
  for (int i = 0; i < kSteps; ++i) {
    text += "  - {id: s" + std::to_string(i) + ", run: 'true', needs: s" +
            std::to_string((i + 1) % kSteps) + "}\n";
  }
  LoadResult r = load_runbook_text(text, "big.yaml");
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics.items()[0].message.starts_with("dependency cycle: s0 -> s1 -> s2 -> "));
  CHECK(r.diagnostics.items()[0].message.ends_with(" -> s9999 -> s0"));
}
