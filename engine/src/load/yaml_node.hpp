#pragma once

// A parsed YAML document as a tree of nodes, read with libyaml. Internal to
// the loader (and the server's config, which is read the same way).
//
// Why not a YAML library's own tree: a runbook of 10,000 steps is about
// 100,000 nodes, and the tree must be built fast and small (see bench/). A
// node here is one allocation; aliases share the node they refer to.

#include <cstddef>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace runbook::load::yaml {

// Where a node starts: 0-based line and column, -1 when unknown.
struct Mark {
  int line = -1;
  int column = -1;
  bool is_null() const { return line < 0; }
};

class Node;

namespace detail {
struct NodeData;
}

// Iterates a sequence (`*it` is an item) or a map (`it->first` and
// `it->second` are a key and its value).
class NodeIterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = Node;
  using difference_type = std::ptrdiff_t;
  using pointer = const Node*;
  using reference = const Node&;

  NodeIterator() = default;
  NodeIterator(const detail::NodeData* data, size_t index) : data_(data), index_(index) {}
  const Node& operator*() const;
  const std::pair<Node, Node>* operator->() const;
  // A map's key and value.
  const std::pair<Node, Node>& pair() const { return *operator->(); }
  NodeIterator& operator++() {
    ++index_;
    return *this;
  }
  NodeIterator operator++(int) {
    NodeIterator before = *this;
    ++index_;
    return before;
  }
  bool operator==(const NodeIterator& other) const { return index_ == other.index_; }
  bool operator!=(const NodeIterator& other) const { return index_ != other.index_; }

 private:
  const detail::NodeData* data_ = nullptr;
  size_t index_ = 0;
};

class Node {
 public:
  enum class Kind { null, scalar, sequence, map };

  Node() = default;  // null: an empty document or value
  explicit Node(std::shared_ptr<const detail::NodeData> data) : data_(std::move(data)) {}

  // False only for a default-constructed node.
  explicit operator bool() const { return data_ != nullptr; }
  Kind kind() const;
  bool IsNull() const { return kind() == Kind::null; }
  bool IsScalar() const { return kind() == Kind::scalar; }
  bool IsSequence() const { return kind() == Kind::sequence; }
  bool IsMap() const { return kind() == Kind::map; }
  // A scalar's text ("" for others).
  const std::string& Scalar() const;
  // "?" for a plain scalar without a tag, "!" for a quoted or block one
  // without a tag, else the tag as resolved ("tag:yaml.org,2002:int").
  const std::string& Tag() const;
  Mark GetMark() const;
  // Items of a sequence, or pairs of a map; 0 for others.
  size_t size() const;
  // Item `i` of a sequence (i < size()).
  const Node& operator[](size_t i) const;
  NodeIterator begin() const;
  NodeIterator end() const;

 private:
  std::shared_ptr<const detail::NodeData> data_;
};

namespace detail {
struct NodeData {
  Node::Kind kind = Node::Kind::null;
  Mark mark;
  std::string scalar;
  std::string tag;  // "?" or "!" or the resolved tag
  std::vector<Node> items;
  std::vector<std::pair<Node, Node>> pairs;
};
}  // namespace detail

// Why a text is not one YAML document.
struct ParseError {
  Mark mark;            // null when the problem has no place
  std::string message;  // "invalid YAML: …", or one of ours (see parse)
};

// The documents in `text`, at most `max_depth` collections deep. On a syntax
// error, an undefined alias or too deep a nesting, returns false with
// `error` set; an unterminated quoted scalar is reported where it opens.
bool parse(std::string_view text, int max_depth, std::vector<Node>* documents, ParseError* error);

}  // namespace runbook::load::yaml
