#pragma once

// Checks that need the whole runbook: step ids, `needs`, dependency cycles,
// and the templates in every string. Internal to the loader.

#include <functional>
#include <string_view>

#include "runbook/diagnostics.hpp"
#include "runbook/model.hpp"

namespace runbook::load {

// Ids valid and unique across steps and hooks (they name log files and
// `steps.ID` in expressions); every `needs` names another known step, once;
// no dependency cycles (each reported once, at its first step in the file);
// then check_templates(). `source`, the runbook's text, makes the columns of
// expression errors exact (see runbook::locate); it may be empty.
void validate_runbook(const Runbook& runbook, Diagnostics& diags, std::string_view source = {});

// Calls `visit` with every string of the runbook that may hold `${{ }}`: the
// top-level env and lock, and in every step, hook step and rollback the
// script, exec items, env, workdir, when, confirm, for_each and the strings in
// `with` (these carry the mark of the `with` map). `field` names the key and
// `step` the step (null at the top level). The seam for the expression checker.
using TextVisitor = std::function<void(const Text& text, std::string_view field, const Step* step)>;
void visit_texts(const Runbook& runbook, const TextVisitor& visit);

// Reports every `${{` not closed by `}}`, and every expression that does not
// parse or reads a name that cannot exist where it is used (expr::TextChecker).
void check_templates(const Runbook& runbook, Diagnostics& diags, std::string_view source = {});

}  // namespace runbook::load
