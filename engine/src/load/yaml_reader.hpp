#pragma once

// Reading a parsed YAML tree into model values, with a diagnostic for every
// value of the wrong shape. Internal to the loader.

#include "load/yaml_node.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runbook/diagnostics.hpp"
#include "runbook/duration.hpp"
#include "runbook/model.hpp"
#include "runbook/value.hpp"

namespace runbook::load {

// One key of a YAML map, after merge keys (`<<`) are resolved.
struct Entry {
  std::string key;
  yaml::Node key_node;
  yaml::Node value;
  bool from_defaults = false;  // merged in from `defaults:`, not written in the step
  bool from_merge = false;     // merged in by a `<<` key, from a map written elsewhere
};

// yaml::Mark is 0-based and -1 when unknown; ours are 1-based and 0.
Mark mark_of(const yaml::Node& node);

// Where an entry's value is: its own mark, or the key's when the value is
// empty (an empty value may be placed on the next token, often a line down).
Mark value_mark(const Entry& e);

// How a node reads in an error: "a map", "a list", "empty", or "'text'".
std::string describe(const yaml::Node& node);

// Limits on the work one document may cause, shared by every reader of it:
// aliases can make a small file expand exponentially or refer to themselves.
struct Budget {
  size_t nodes_left = 1'000'000;
  bool reported = false;
};

inline constexpr int kMaxValueDepth = 64;  // nesting of `with:`, defaults, lists
inline constexpr int kMaxMergeDepth = 16;  // merge keys whose maps merge others

class YamlReader {
 public:
  // `diags` may be null: the reader then reports nothing (see muted()).
  YamlReader(std::string file, Diagnostics* diags, Budget* budget)
      : file_(std::move(file)), diags_(diags), budget_(budget) {}

  const std::string& file() const { return file_; }
  // The same reader with its reports dropped: for step fields merged in from
  // `defaults:`, whose problems are reported once, where they are written.
  YamlReader muted() const { return {file_, nullptr, budget_}; }

  void error(Mark mark, std::string message, std::string hint = {});

  // The keys of a map in file order, with `<<: *base` and `<<: [*a, *b]`
  // merged in: explicit keys win over merged ones, and earlier maps in a merge
  // list over later ones. Reports duplicate and non-string keys.
  std::vector<Entry> entries(const yaml::Node& map) { return entries(map, 0); }

  // Reports `e` as an unknown key `where` ("in step 'build'"), suggesting
  // the nearest of `known`.
  void unknown_key(const Entry& e, const std::vector<std::string_view>& known,
                   std::string_view where);

  // Typed values. Each reports a wrong shape under `name` (the key as the
  // user knows it, like "retry.delay") and returns nullopt.
  std::optional<std::string> string(const Entry& e, std::string_view name);
  std::optional<Text> text(const Entry& e, std::string_view name);
  std::optional<int64_t> integer(const Entry& e, std::string_view name, int64_t min, int64_t max);
  std::optional<double> number(const Entry& e, std::string_view name, double min);
  std::optional<bool> boolean(const Entry& e, std::string_view name);
  std::optional<Duration> duration(const Entry& e, std::string_view name);
  // A list of strings; with `allow_single`, one string counts as a list of one.
  std::optional<std::vector<Text>> text_list(const Entry& e, std::string_view name,
                                             bool allow_single);
  std::optional<std::vector<int>> int_list(const Entry& e, std::string_view name, int min, int max);
  // A map of names to strings (numbers and booleans as written). Null is empty.
  std::optional<EnvList> env(const Entry& e, std::string_view name);
  // True when the value is a map (or empty, which reads as an empty map).
  bool is_map(const Entry& e, std::string_view name);

  // Any YAML as a Value: plain scalars become null, booleans, integers or
  // doubles by the YAML 1.2 core schema, quoted ones strings.
  std::optional<Value> value(const yaml::Node& node, std::string_view name) {
    return value(node, name, 0);
  }

 private:
  std::vector<Entry> entries(const yaml::Node& map, int merge_depth);
  std::optional<Value> value(const yaml::Node& node, std::string_view name, int depth);
  // Counts `n` nodes against the budget; false (reported once) when spent.
  bool spend(size_t n, const yaml::Node& at);
  void wrong(const Entry& e, std::string_view name, std::string_view expected);

  std::string file_;
  Diagnostics* diags_;
  Budget* budget_;
};

// Scalar readings shared with the params loader.
std::optional<int64_t> parse_int(std::string_view text);
std::optional<bool> parse_bool(std::string_view text);
// True for a scalar written without quotes or tags, whose type YAML infers.
bool is_plain(const yaml::Node& node);
// An identifier of steps and runbooks: [a-z0-9][a-z0-9_-]*.
bool is_valid_id(std::string_view id);

}  // namespace runbook::load
