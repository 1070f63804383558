// Expressions in a run: the context templates read, the rendering of a
// unit's body (the shell-safe rule for `run:`), outputs and masking. Part of
// Executor; see executor.hpp.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "exec/executor.hpp"

namespace runbook::exec {
namespace {

// Shells that read `${NAME}` as a variable reference.
bool is_posix_shell(const std::string& shell) {
  if (shell.empty()) return true;
  std::string program = shell.substr(0, shell.find(' '));
  std::string name = program.substr(program.rfind('/') + 1);
  return name == "bash" || name == "sh" || name == "dash" || name == "zsh" || name == "ksh" ||
         name == "ash" || name == "mksh";
}

std::string describe_role(const Unit& unit) {
  switch (unit.role) {
    case UnitRole::step:
      return std::string(unit.item_index < 0 ? "step" : "item") + " '" + unit.id + "'";
    case UnitRole::rollback:
      return "the rollback of " + std::string(unit.item_index < 0 ? "step" : "item") + " '" +
             unit.id + "'";
    case UnitRole::hook:
      return "hook '" + unit.id + "'";
  }
  return unit.id;
}

}  // namespace

std::string Executor::mask(std::string_view text) const {
  return masker_.empty() ? std::string(text) : masker_.mask(text);
}

ExprContext Executor::context(const Unit* unit) const {
  ExprContext c;
  c.params = &options_.params;
  c.env = &env_map_;
  c.steps = &results_;
  c.run_id = options_.run_id;
  c.run_trigger = options_.trigger;
  c.alert_labels = &options_.alert_labels;
  c.alert_annotations = &options_.alert_annotations;
  if (unit && unit->item) {
    c.item = &*unit->item;
    c.index = unit->item_index;
  }
  return c;
}

bool Executor::render_unit(Unit& unit) {
  const StepBody& body = *unit.body;
  ExprContext ctx = context(&unit);
  auto fail = [&](const std::string& field, const std::string& why) {
    unit.message = mask("cannot render '" + field + "' of " + describe_role(unit) + ": " + why);
    return false;
  };
  auto text_of = [&](const Text& text, const std::string& field, std::string* out) {
    Expected<Template> tpl = parse_template(text.value);
    if (!tpl) return fail(field, tpl.error().format());
    Expected<std::string> value = render_text(tpl.value(), ctx);
    if (!value) return fail(field, value.error().format());
    *out = std::move(value).value();
    return true;
  };

  unit.step_env.clear();
  for (const auto& [name, text] : body.env) {
    std::string value;
    if (!text_of(text, "env." + name, &value)) return false;
    unit.step_env.emplace_back(name, std::move(value));
  }
  unit.workdir.clear();
  if (body.workdir && !text_of(*body.workdir, "workdir", &unit.workdir)) return false;

  if (body.kind == ActionKind::uses) {
    Expected<Value> with = render_with(body.with, ctx);
    if (!with) return fail("with", with.error().format());
    unit.with_json = with.value().is_null() ? "{}" : with.value().to_json();
    // Shown (the display, logs, the audit log) in brief, secrets masked.
    constexpr size_t kShownArguments = 200;
    std::string shown = mask(unit.with_json);
    if (shown.size() > kShownArguments) {
      size_t cut = kShownArguments;
      while (cut > 0 && (static_cast<unsigned char>(shown[cut]) & 0xC0) == 0x80) --cut;
      shown = shown.substr(0, cut) + "…";
    }
    unit.shown_command = "uses: " + body.uses + " " + shown;
    unit.argv.clear();
    return true;
  }

  std::string script;
  std::vector<std::string> exec_argv;
  if (body.kind == ActionKind::run) {
    Expected<Template> tpl = parse_template(body.run.value);
    if (!tpl) return fail("run", tpl.error().format());
    if (tpl.value().has_expressions() && !is_posix_shell(body.shell))
      return fail("run", "${{ }} in a script needs a POSIX shell (bash, sh, zsh, ksh), not '" +
                             body.shell + "'; read the value from an env: variable instead");
    // The safety rule: values reach the shell as variables, never as code.
    Expected<ShellScript> safe = render_script(tpl.value(), ctx);
    if (!safe) return fail("run", safe.error().format());
    script = safe.value().script;
    for (auto& kv : safe.value().env) unit.step_env.push_back(kv);
    Expected<std::string> shown = render_script_for_display(tpl.value(), ctx, masker_);
    unit.shown_command = shown ? shown.value() : script;
  } else if (body.kind == ActionKind::exec) {
    for (size_t i = 0; i < body.exec.size(); ++i) {
      std::string arg;
      if (!text_of(body.exec[i], "exec[" + std::to_string(i) + "]", &arg)) return false;
      exec_argv.push_back(std::move(arg));
    }
    unit.shown_command.clear();
    for (const std::string& a : exec_argv)
      unit.shown_command += (unit.shown_command.empty() ? "" : " ") + mask(a);
  }
  unit.argv = command_line(body, script, exec_argv);
  return true;
}

std::string Executor::output_file(const Unit& unit) const {
  const char* suffix = unit.role == UnitRole::step       ? ""
                       : unit.role == UnitRole::rollback ? ".rollback"
                                                         : ".hook";
  return env_->tmp_dir() + "/.outputs/" + unit.id + suffix;
}

bool Executor::read_outputs(Unit& unit) {
  std::string path = output_file(unit);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;  // nothing written
  struct stat st {};
  ::fstat(fd, &st);
  if (uint64_t(st.st_size) > kMaxOutputBytes) {
    ::close(fd);
    unit.message = outputs_too_large(unit.id, uint64_t(st.st_size));
    return false;
  }
  std::string text(size_t(st.st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += size_t(n);
  }
  ::close(fd);
  text.resize(got);
  auto parsed = parse_outputs(text, unit.id);
  if (!parsed) {
    unit.message = mask(parsed.error());
    return false;
  }
  // Items' outputs are checked but not kept: a for_each step has no outputs
  // (which item's would they be?).
  if (!unit.for_each) results_[unit.id].outputs = std::move(parsed).value();
  return true;
}

}  // namespace runbook::exec
