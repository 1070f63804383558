#pragma once

// The syntax tree of one expression. Internal to engine/src/expr; others hold
// it through runbook::Expression.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runbook/value.hpp"

namespace runbook::expr {

enum class NodeKind {
  literal,      // `literal`
  name,         // a root name: params, steps, item, …
  member,       // operands[0] . name
  index,        // operands[0] [ operands[1] ]
  call,         // name ( operands… )
  logical_not,  // ! operands[0]
  binary,       // operands[0] op operands[1]
};

enum class BinaryOp {
  logical_or,
  logical_and,
  equal,
  not_equal,
  less,
  less_equal,
  greater,
  greater_equal
};

std::string_view to_string(BinaryOp op);

struct Node {
  NodeKind kind = NodeKind::literal;
  size_t offset = 0;  // in the Text's value: the name, operator or literal
  Value literal;
  std::string name;
  BinaryOp op = BinaryOp::equal;
  std::vector<std::unique_ptr<Node>> operands;
};

// Where the text of `n` starts: its leftmost token (a node's own offset is
// its name or operator).
inline size_t start_offset(const Node& n) {
  const Node* at = &n;
  while ((at->kind == NodeKind::member || at->kind == NodeKind::index ||
          at->kind == NodeKind::binary) &&
         !at->operands.empty()) {
    at = at->operands[0].get();
  }
  return at->offset;
}

// The functions expressions may call, with their arity.
struct FunctionInfo {
  std::string_view name;
  size_t min_args;
  size_t max_args;
};
const std::vector<FunctionInfo>& functions();
const FunctionInfo* find_function(std::string_view name);

}  // namespace runbook::expr
