#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "runbook/serve.hpp"

namespace runbook::cli {

void add_alerts_command(CLI::App& app, int& exit_code) {
  CLI::App* alerts = app.add_subcommand("alerts", "Check alert rules of the trigger server.");
  alerts->require_subcommand(1);
  auto options = std::make_shared<AlertTestOptions>();
  CLI::App* test = alerts->add_subcommand(
      "test",
      "What each alert of a webhook payload would do under the server's rules and its current "
      "state (dedup, cooldowns, breakers, pause), and why. Runs nothing.");
  test->add_option("--config", options->config_path, "The server's config (YAML)")->required();
  test->add_option("PAYLOAD", options->payload_path, "A webhook body (JSON)")->required();
  test->add_option("--receiver", options->receiver,
                   "alertmanager (default), grafana, or hook/NAME for /v1/hooks/NAME");
  test->add_option("--output", options->output, "text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  test->callback(
      [options, &exit_code] { exit_code = test_alerts(*options, std::cout, std::cerr); });
}

}  // namespace runbook::cli
