#include "load/yaml_node.hpp"

#include <yaml.h>

#include <string>
#include <unordered_map>

namespace runbook::load::yaml {
namespace {

const std::string kEmpty;
const std::string kPlainTag = "?";
const std::string kQuotedTag = "!";

// YAML 1.2 core schema nulls, as a plain scalar.
bool is_null_text(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

Mark mark_of(const yaml_mark_t& m) {
  return Mark{int(m.line), int(m.column)};
}

// Owns a libyaml parser and the event being handled.
class EventReader {
 public:
  explicit EventReader(std::string_view text) {
    ok_ = yaml_parser_initialize(&parser_) != 0;
    if (ok_)
      yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                   text.size());
  }
  ~EventReader() {
    if (has_event_) yaml_event_delete(&event_);
    if (ok_) yaml_parser_delete(&parser_);
  }
  EventReader(const EventReader&) = delete;
  EventReader& operator=(const EventReader&) = delete;

  // The next event, or nullptr with `error` set.
  const yaml_event_t* next(ParseError* error) {
    if (has_event_) yaml_event_delete(&event_);
    has_event_ = false;
    if (!ok_) {
      error->message = "cannot parse YAML: out of memory";
      return nullptr;
    }
    if (yaml_parser_parse(&parser_, &event_) == 0) {
      describe_error(error);
      return nullptr;
    }
    has_event_ = true;
    return &event_;
  }

 private:
  void describe_error(ParseError* error) const {
    std::string problem = parser_.problem ? parser_.problem : "syntax error";
    std::string context = parser_.context ? parser_.context : "";
    // A quoted scalar that never closes runs to the end of the file: say
    // where it opened, which is where the mistake is.
    if (context == "while scanning a quoted scalar" &&
        problem.find("end of stream") != std::string::npos) {
      error->mark = mark_of(parser_.context_mark);
      const size_t at = parser_.context_mark.index;
      const char quote = at < input_size() ? input_char(at) : '"';
      error->message = std::string("unterminated quoted string: the closing ") + quote +
                       " is missing, so the rest of the file would be part of it";
      return;
    }
    error->mark = mark_of(parser_.problem_mark);
    error->message = "invalid YAML: " + problem;
    if (!context.empty()) error->message += " (" + context + ")";
  }
  size_t input_size() const { return parser_.input.string.end - parser_.input.string.start; }
  char input_char(size_t i) const { return char(parser_.input.string.start[i]); }

  yaml_parser_t parser_{};
  yaml_event_t event_{};
  bool ok_ = false;
  bool has_event_ = false;
};

// Builds nodes from events: a stack of the collections being filled.
class Builder {
 public:
  Builder(int max_depth, ParseError* error) : max_depth_(max_depth), error_(error) {}

  // Takes one event; false on an error (set in `error`).
  bool take(const yaml_event_t& e, std::vector<Node>* documents) {
    switch (e.type) {
      case YAML_SCALAR_EVENT:
        return add(scalar(e), anchor_of(e.data.scalar.anchor), documents);
      case YAML_ALIAS_EVENT: {
        std::string name = reinterpret_cast<const char*>(e.data.alias.anchor);
        auto it = anchors_.find(name);
        if (it == anchors_.end()) {
          error_->mark = mark_of(e.start_mark);
          error_->message = "invalid YAML: the alias *" + name + " refers to no anchor";
          for (const Open& open : open_)
            if (open.anchor == name)
              error_->message = "invalid YAML: the alias *" + name +
                                " is inside the node it names (a node cannot contain itself)";
          return false;
        }
        return add(it->second, "", documents);
      }
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT: {
        if (int(open_.size()) >= max_depth_) {
          error_->mark = mark_of(e.start_mark);
          error_->message =
              "YAML is nested too deeply (more than " + std::to_string(max_depth_ - 1) + " levels)";
          return false;
        }
        auto data = std::make_shared<detail::NodeData>();
        const bool is_map = e.type == YAML_MAPPING_START_EVENT;
        data->kind = is_map ? Node::Kind::map : Node::Kind::sequence;
        data->mark = mark_of(e.start_mark);
        const yaml_char_t* tag = is_map ? e.data.mapping_start.tag : e.data.sequence_start.tag;
        data->tag = tag ? reinterpret_cast<const char*>(tag) : kPlainTag;
        const yaml_char_t* anchor =
            is_map ? e.data.mapping_start.anchor : e.data.sequence_start.anchor;
        open_.push_back(Open{data, anchor_of(anchor), Node(), false});
        return true;
      }
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT: {
        Open done = std::move(open_.back());
        open_.pop_back();
        return add(Node(done.data), done.anchor, documents);
      }
      case YAML_DOCUMENT_START_EVENT:
        anchors_.clear();  // anchors do not reach across documents
        return true;
      default:
        return true;  // stream and document ends
    }
  }

 private:
  struct Open {
    std::shared_ptr<detail::NodeData> data;
    std::string anchor;
    Node key;  // of a map, the key waiting for its value
    bool has_key = false;
  };

  static std::string anchor_of(const yaml_char_t* anchor) {
    return anchor ? reinterpret_cast<const char*>(anchor) : std::string();
  }

  static Node scalar(const yaml_event_t& e) {
    auto data = std::make_shared<detail::NodeData>();
    data->mark = mark_of(e.start_mark);
    data->scalar.assign(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
    const bool plain = e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (e.data.scalar.tag) {
      data->tag = reinterpret_cast<const char*>(e.data.scalar.tag);
    } else {
      data->tag = plain ? kPlainTag : kQuotedTag;
    }
    const bool null = (plain && !e.data.scalar.tag && is_null_text(data->scalar)) ||
                      data->tag == "tag:yaml.org,2002:null";
    data->kind = null ? Node::Kind::null : Node::Kind::scalar;
    return Node(std::move(data));
  }

  bool add(Node node, const std::string& anchor, std::vector<Node>* documents) {
    if (!anchor.empty()) anchors_[anchor] = node;
    if (open_.empty()) {
      documents->push_back(std::move(node));
      return true;
    }
    Open& parent = open_.back();
    if (parent.data->kind == Node::Kind::sequence) {
      parent.data->items.push_back(std::move(node));
    } else if (!parent.has_key) {
      parent.key = std::move(node);
      parent.has_key = true;
    } else {
      parent.data->pairs.emplace_back(std::move(parent.key), std::move(node));
      parent.key = Node();
      parent.has_key = false;
    }
    return true;
  }

  int max_depth_;
  ParseError* error_;
  std::vector<Open> open_;
  std::unordered_map<std::string, Node> anchors_;
};

}  // namespace

const Node& NodeIterator::operator*() const {
  return data_->items[index_];
}

const std::pair<Node, Node>* NodeIterator::operator->() const {
  return &data_->pairs[index_];
}

Node::Kind Node::kind() const {
  return data_ ? data_->kind : Kind::null;
}

const std::string& Node::Scalar() const {
  return data_ ? data_->scalar : kEmpty;
}

const std::string& Node::Tag() const {
  return data_ ? data_->tag : kPlainTag;
}

Mark Node::GetMark() const {
  return data_ ? data_->mark : Mark{};
}

size_t Node::size() const {
  if (!data_) return 0;
  return data_->kind == Kind::map ? data_->pairs.size() : data_->items.size();
}

const Node& Node::operator[](size_t i) const {
  return data_->items[i];
}

NodeIterator Node::begin() const {
  return NodeIterator(data_.get(), 0);
}

NodeIterator Node::end() const {
  return NodeIterator(data_.get(), size());
}

bool parse(std::string_view text, int max_depth, std::vector<Node>* documents, ParseError* error) {
  EventReader reader(text);
  Builder builder(max_depth, error);
  for (;;) {
    const yaml_event_t* e = reader.next(error);
    if (!e || !builder.take(*e, documents)) return false;
    if (e->type == YAML_STREAM_END_EVENT) return true;
  }
}

}  // namespace runbook::load::yaml
