// Recursive descent over the tokens, lowest precedence first:
//   or      := and ('||' and)*
//   and     := equality ('&&' equality)*
//   equality:= compare (('==' | '!=') compare)*
//   compare := unary (('<' | '<=' | '>' | '>=') unary)*
//   unary   := '!' unary | postfix
//   postfix := primary ('.' NAME | '[' or ']')*
//   primary := literal | '-' NUMBER | NAME | NAME '(' args ')' | '(' or ')'

#include <optional>

#include "expr/ast.hpp"
#include "expr/lexer.hpp"

namespace runbook::expr {

std::string_view to_string(BinaryOp op) {
  switch (op) {
    case BinaryOp::logical_or:
      return "||";
    case BinaryOp::logical_and:
      return "&&";
    case BinaryOp::equal:
      return "==";
    case BinaryOp::not_equal:
      return "!=";
    case BinaryOp::less:
      return "<";
    case BinaryOp::less_equal:
      return "<=";
    case BinaryOp::greater:
      return ">";
    case BinaryOp::greater_equal:
      return ">=";
  }
  return "?";
}

const std::vector<FunctionInfo>& functions() {
  static const std::vector<FunctionInfo> list = {
      {"contains", 2, 2}, {"startsWith", 2, 2}, {"endsWith", 2, 2}, {"len", 1, 1},
      {"join", 1, 2},     {"toJSON", 1, 1},     {"fromJSON", 1, 1},
  };
  return list;
}

const FunctionInfo* find_function(std::string_view name) {
  for (const FunctionInfo& f : functions()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

namespace {

using NodePtr = std::unique_ptr<Node>;

constexpr size_t kMaxPathLength = 256;
// Bounds the size of the tree, and so the depth of the walks over it.
constexpr size_t kMaxNodes = 4096;
// Operators of one level are chained without recursion in the parser but not
// in the evaluator: bound the chain.
constexpr size_t kMaxOperands = 256;

// Thrown inside the parser only, caught by parse_expression: unwinding a deep
// recursion is simpler this way than threading errors through every level.
struct ParseFailure {
  ExprError error;
};

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  NodePtr parse_all() {
    NodePtr root = parse_or();
    if (peek().kind != Tok::end) {
      std::string hint;
      if (peek().kind == Tok::identifier || peek().kind == Tok::string ||
          peek().kind == Tok::number) {
        hint = "join conditions with && or ||";
      }
      fail(peek(), "unexpected " + describe(peek()) + " after a complete expression",
           std::move(hint));
    }
    return root;
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  const Token& take() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool accept(Tok kind) {
    if (peek().kind != kind) return false;
    ++pos_;
    return true;
  }

  [[noreturn]] void fail(const Token& at, std::string message, std::string hint = {}) {
    throw ParseFailure{ExprError{std::move(message), std::move(hint), at.offset}};
  }

  NodePtr new_node() {
    if (++nodes_ > kMaxNodes)
      fail(peek(), "expression too large (over " + std::to_string(kMaxNodes) + " parts)");
    return std::make_unique<Node>();
  }

  void check_operands(size_t count) {
    if (count >= kMaxOperands)
      fail(peek(), "too many operators in a row (over " + std::to_string(kMaxOperands) + ")");
  }

  void expect(Tok kind, std::string_view what) {
    if (peek().kind == kind) {
      ++pos_;
      return;
    }
    fail(peek(), "expected " + std::string(what) + ", found " + describe(peek()));
  }

  // Guards the recursion: `((((…` or `!!!!…` a thousand deep must not overflow.
  struct Depth {
    Parser& p;
    explicit Depth(Parser& parser) : p(parser) {
      if (++p.depth_ > kMaxExpressionDepth)
        p.fail(p.peek(), "expression nested too deeply (over " +
                             std::to_string(kMaxExpressionDepth) + " levels)");
    }
    ~Depth() { --p.depth_; }
    Depth(const Depth&) = delete;
    Depth& operator=(const Depth&) = delete;
  };

  NodePtr binary(BinaryOp op, size_t offset, NodePtr left, NodePtr right) {
    auto n = new_node();
    n->kind = NodeKind::binary;
    n->op = op;
    n->offset = offset;
    n->operands.push_back(std::move(left));
    n->operands.push_back(std::move(right));
    return n;
  }

  NodePtr parse_or() {
    Depth guard(*this);
    NodePtr left = parse_and();
    for (size_t count = 1; peek().kind == Tok::or_or; ++count) {
      check_operands(count);
      const size_t at = take().offset;
      left = binary(BinaryOp::logical_or, at, std::move(left), parse_and());
    }
    return left;
  }

  NodePtr parse_and() {
    NodePtr left = parse_equality();
    for (size_t count = 1; peek().kind == Tok::and_and; ++count) {
      check_operands(count);
      const size_t at = take().offset;
      left = binary(BinaryOp::logical_and, at, std::move(left), parse_equality());
    }
    return left;
  }

  NodePtr parse_equality() {
    NodePtr left = parse_compare();
    for (size_t count = 1; peek().kind == Tok::equal || peek().kind == Tok::not_equal; ++count) {
      check_operands(count);
      const Token& t = take();
      const BinaryOp op = t.kind == Tok::equal ? BinaryOp::equal : BinaryOp::not_equal;
      left = binary(op, t.offset, std::move(left), parse_compare());
    }
    return left;
  }

  NodePtr parse_compare() {
    NodePtr left = parse_unary();
    for (size_t count = 1;; ++count) {
      std::optional<BinaryOp> op;
      switch (peek().kind) {
        case Tok::less:
          op = BinaryOp::less;
          break;
        case Tok::less_equal:
          op = BinaryOp::less_equal;
          break;
        case Tok::greater:
          op = BinaryOp::greater;
          break;
        case Tok::greater_equal:
          op = BinaryOp::greater_equal;
          break;
        default:
          return left;
      }
      check_operands(count);
      const size_t at = take().offset;
      left = binary(*op, at, std::move(left), parse_unary());
    }
  }

  NodePtr parse_unary() {
    if (peek().kind == Tok::bang) {
      Depth guard(*this);
      auto n = new_node();
      n->kind = NodeKind::logical_not;
      n->offset = take().offset;
      n->operands.push_back(parse_unary());
      return n;
    }
    return parse_postfix();
  }

  NodePtr parse_postfix() {
    NodePtr node = parse_primary();
    for (size_t length = 1;; ++length) {
      // The tree is freed recursively: keep chains like a.b.c… within reason.
      if (length > kMaxPathLength)
        fail(peek(), "path too long (over " + std::to_string(kMaxPathLength) + " parts)");
      if (accept(Tok::dot)) {
        const Token& name = peek();
        if (name.kind != Tok::identifier)
          fail(name, "expected a name after '.', found " + describe(name));
        take();
        auto n = new_node();
        n->kind = NodeKind::member;
        n->offset = name.offset;
        n->name = name.text;
        n->operands.push_back(std::move(node));
        node = std::move(n);
      } else if (peek().kind == Tok::lbracket) {
        Depth guard(*this);
        auto n = new_node();
        n->kind = NodeKind::index;
        n->offset = take().offset;
        n->operands.push_back(std::move(node));
        n->operands.push_back(parse_or());
        expect(Tok::rbracket, "']'");
        node = std::move(n);
      } else {
        return node;
      }
    }
  }

  NodePtr literal(const Token& t, Value v) {
    auto n = new_node();
    n->kind = NodeKind::literal;
    n->offset = t.offset;
    n->literal = std::move(v);
    return n;
  }

  NodePtr parse_primary() {
    const Token& t = peek();
    switch (t.kind) {
      case Tok::number:
        take();
        return literal(t, t.number);
      case Tok::string:
        take();
        return literal(t, Value(t.text));
      case Tok::minus: {
        take();
        const Token& number = peek();
        if (number.kind != Tok::number) fail(t, "'-' must be followed by a number");
        take();
        if (number.number.is_int()) return literal(t, Value(-number.number.as_int()));
        return literal(t, Value(-number.number.as_number()));
      }
      case Tok::lparen: {
        Depth guard(*this);
        take();
        NodePtr inner = parse_or();
        expect(Tok::rparen, "')'");
        return inner;
      }
      case Tok::identifier:
        break;
      default:
        fail(t, "expected a value, found " + describe(t));
    }
    take();
    if (t.text == "true") return literal(t, Value(true));
    if (t.text == "false") return literal(t, Value(false));
    if (t.text == "null") return literal(t, Value());
    if (peek().kind == Tok::lparen) return parse_call(t);
    auto n = new_node();
    n->kind = NodeKind::name;
    n->offset = t.offset;
    n->name = t.text;
    return n;
  }

  NodePtr parse_call(const Token& name) {
    Depth guard(*this);
    const FunctionInfo* f = find_function(name.text);
    if (f == nullptr) {
      std::vector<std::string_view> known;
      for (const FunctionInfo& info : functions()) known.push_back(info.name);
      std::string near = nearest_word(name.text, known);
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      fail(name, "unknown function '" + name.text + "'",
           near.empty() ? "the functions are " + list : "did you mean '" + near + "'?");
    }
    take();  // '('
    auto n = new_node();
    n->kind = NodeKind::call;
    n->offset = name.offset;
    n->name = name.text;
    if (!accept(Tok::rparen)) {
      do {
        n->operands.push_back(parse_or());
      } while (accept(Tok::comma));
      expect(Tok::rparen, "',' or ')'");
    }
    const size_t count = n->operands.size();
    if (count < f->min_args || count > f->max_args) {
      std::string wanted = std::to_string(f->min_args);
      if (f->max_args != f->min_args) wanted += " or " + std::to_string(f->max_args);
      wanted += f->max_args == 1 ? " argument" : " arguments";
      fail(name, std::string(f->name) + "() takes " + wanted + ", not " + std::to_string(count));
    }
    return n;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  size_t depth_ = 0;
  size_t nodes_ = 0;
};

}  // namespace

}  // namespace runbook::expr

namespace runbook {

Expected<Expression> parse_expression(std::string_view text, size_t offset) {
  Expected<std::vector<expr::Token>> tokens = expr::tokenize(text, offset);
  if (!tokens) return tokens.error();
  if (tokens.value().size() == 1) {
    return ExprError{"empty expression", "write something between ${{ and }}", offset};
  }
  try {
    expr::Parser parser(std::move(tokens).value());
    std::shared_ptr<const expr::Node> root = parser.parse_all();
    return Expression(std::move(root), std::string(text), offset);
  } catch (const expr::ParseFailure& failure) {
    return failure.error;
  }
}

}  // namespace runbook
