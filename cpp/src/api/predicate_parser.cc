// ParsePredicate: a recursive-descent parser (its recursion bounded: see Nested()) for the SQL-style filters that the catalog
// CLI and sl.catalog take as text ("year = 2015 AND marketplace IN ('US','UK')").

#include <arrow/array/builder_base.h>
#include <arrow/array/builder_binary.h>
#include <arrow/array/builder_primitive.h>
#include <arrow/scalar.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <cstdlib>
#include <string>
#include <vector>

#include "compute/expression_depth.h"
#include "sluice/expression.h"

namespace sluice {

namespace {

enum class TokenKind { kIdentifier, kQuotedIdentifier, kNumber, kString, kSymbol, kEnd };

struct Token {
  TokenKind kind;
  std::string text;
  size_t position;
};

/// The filter text for a message: whole when short, else the part around `position`
/// (a filter may be megabytes long).
std::string Quoted(const std::string& text, size_t position) {
  constexpr size_t kShown = 120;
  if (text.size() <= 2 * kShown) return "'" + text + "'";
  const size_t begin = position > kShown / 2 ? position - kShown / 2 : 0;
  const size_t end = std::min(text.size(), begin + kShown);
  return std::string(begin > 0 ? "'..." : "'") + text.substr(begin, end - begin) +
         (end < text.size() ? "...'" : "'") + " (" + std::to_string(text.size()) + " characters)";
}

arrow::Result<std::vector<Token>> Tokenize(const std::string& text) {
  std::vector<Token> tokens;
  size_t i = 0;
  auto error = [&](size_t at, const std::string& what) {
    return arrow::Status::Invalid("cannot parse filter ", Quoted(text, at), " at position ", at + 1, ": ",
                                  what);
  };
  while (i < text.size()) {
    const char c = text[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    const size_t start = i;
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      while (i < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_')) {
        ++i;
      }
      tokens.push_back({TokenKind::kIdentifier, text.substr(start, i - start), start});
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < text.size() &&
                std::isdigit(static_cast<unsigned char>(text[i + 1])))) {
      while (i < text.size() &&
             (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.' ||
              text[i] == 'e' || text[i] == 'E' ||
              ((text[i] == '+' || text[i] == '-') && (text[i - 1] == 'e' || text[i - 1] == 'E')))) {
        ++i;
      }
      tokens.push_back({TokenKind::kNumber, text.substr(start, i - start), start});
    } else if (c == '\'' || c == '"' || c == '`') {
      std::string value;
      ++i;
      while (true) {
        if (i >= text.size()) return error(start, "unterminated quote");
        if (text[i] == c) {
          if (i + 1 < text.size() && text[i + 1] == c) {
            value += c;
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        value += text[i++];
      }
      tokens.push_back(
          {c == '\'' ? TokenKind::kString : TokenKind::kQuotedIdentifier, value, start});
    } else {
      static const char* kTwoCharSymbols[] = {"==", "!=", "<>", "<=", ">="};
      std::string symbol(1, c);
      for (const char* two : kTwoCharSymbols) {
        if (text.compare(i, 2, two) == 0) symbol = two;
      }
      if (std::string("=!<>()+-*/%,").find(c) == std::string::npos) {
        return error(start, std::string("unexpected character '") + c + "'");
      }
      if (symbol == "!") return error(start, "'!' must be followed by '='");
      i += symbol.size();
      tokens.push_back({TokenKind::kSymbol, symbol, start});
    }
  }
  tokens.push_back({TokenKind::kEnd, "", text.size()});
  return tokens;
}

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

class Parser {
 public:
  Parser(const std::string& text, std::vector<Token> tokens)
      : text_(text), tokens_(std::move(tokens)) {}

  arrow::Result<Expression> Parse() {
    ARROW_ASSIGN_OR_RAISE(Parsed result, ParseOr());
    if (Peek().kind != TokenKind::kEnd) return Error(Peek(), "unexpected '" + Peek().text + "'");
    return std::move(result.expr);
  }

 private:
  /// An expression with its depth as ExpressionDepth() counts it, tracked while parsing
  /// so that no expression deeper than kMaxExpressionDepth is ever built: destroying one
  /// recurses as deep as it goes.
  struct Parsed {
    Expression expr;
    int64_t depth = 1;
  };

  /// `expr`, `extra_levels` above the deepest of `operands`, or an error at `at` when that
  /// passes kMaxExpressionDepth.
  arrow::Result<Parsed> Built(const Token& at, Expression expr, int64_t extra_levels,
                              std::initializer_list<int64_t> operands) {
    int64_t depth = 0;
    for (int64_t operand : operands) depth = std::max(depth, operand);
    depth += extra_levels;
    if (depth > kMaxExpressionDepth) return TooDeep(at);
    // BETWEEN uses its operand twice: nesting it doubles the expression.
    if (compute::MeasureExpression(expr).size > kMaxExpressionSize) return TooLarge(at);
    return Parsed{std::move(expr), depth};
  }
  arrow::Status TooLarge(const Token& at) const {
    return Error(at, "the expression grows past " + std::to_string(kMaxExpressionSize) +
                         " calls, columns and literals (% and BETWEEN use their operands "
                         "twice, so each level of them doubles it)");
  }
  arrow::Status TooDeep(const Token& at) const {
    return Error(at, "the expression nests more than " + std::to_string(kMaxExpressionDepth) +
                         " levels deep (each parenthesis, NOT, unary minus and each operator "
                         "of a chain of + - * / % counts one level; AND / OR chains may be "
                         "any length)");
  }
  arrow::Status TooManyNestedParentheses(const Token& at) const {
    return Error(at, "parentheses, NOT and unary minus nest more than " +
                         std::to_string(kMaxPredicateNesting) + " levels deep");
  }

  const Token& Peek() const { return tokens_[position_]; }
  const Token& Next() { return tokens_[position_++]; }
  bool IsKeyword(const Token& token, const char* keyword) const {
    return token.kind == TokenKind::kIdentifier && Upper(token.text) == keyword;
  }
  bool AcceptKeyword(const char* keyword) {
    if (!IsKeyword(Peek(), keyword)) return false;
    ++position_;
    return true;
  }
  bool AcceptSymbol(const char* symbol) {
    if (Peek().kind != TokenKind::kSymbol || Peek().text != symbol) return false;
    ++position_;
    return true;
  }
  arrow::Status Error(const Token& at, const std::string& what) const {
    return arrow::Status::Invalid("cannot parse filter ", Quoted(text_, at.position), " at position ", at.position + 1,
                                  ": ", what);
  }
  arrow::Status Expect(const char* symbol) {
    if (AcceptSymbol(symbol)) return arrow::Status::OK();
    return Error(Peek(), std::string("expected '") + symbol + "'" +
                             (Peek().kind == TokenKind::kEnd ? " at the end"
                                                             : ", found '" + Peek().text + "'"));
  }

  // Chains of OR / AND are collected in a loop and kept shallow (AnyOf / AllOf), so
  // they may have any number of terms. What nests by recursion here — parentheses, NOT,
  // unary minus — goes through Nested(), which stops at kMaxPredicateNesting levels.
  arrow::Result<Parsed> ParseOr() { return ParseChain("OR", &Parser::ParseAnd); }
  arrow::Result<Parsed> ParseAnd() { return ParseChain("AND", &Parser::ParseNot); }

  arrow::Result<Parsed> ParseChain(const char* keyword, arrow::Result<Parsed> (Parser::*parse_term)()) {
    const Token& at = Peek();
    ARROW_ASSIGN_OR_RAISE(Parsed first, (this->*parse_term)());
    if (!AcceptKeyword(keyword)) return first;
    std::vector<Expression> terms;
    terms.push_back(std::move(first.expr));
    do {
      ARROW_ASSIGN_OR_RAISE(Parsed term, (this->*parse_term)());
      terms.push_back(std::move(term.expr));
    } while (AcceptKeyword(keyword));
    Expression chain = std::string(keyword) == "OR" ? AnyOf(std::move(terms)) : AllOf(std::move(terms));
    // Shallow by construction: every term was within the limit, and the chain adds at most
    // 15 levels (compute/kleene_chains.h).
    const int64_t depth = ExpressionDepth(chain);
    if (depth > kMaxExpressionDepth) return TooDeep(at);
    return Parsed{std::move(chain), depth};
  }

  arrow::Result<Parsed> ParseNot() {
    const Token& at = Peek();
    if (AcceptKeyword("NOT")) {
      ARROW_ASSIGN_OR_RAISE(Parsed operand, Nested(at, [this] { return ParseNot(); }));
      return Built(at, Not(std::move(operand.expr)), 1, {operand.depth});
    }
    return ParsePredicateTerm();
  }

  /// Runs `parse` one level of recursion deeper, or fails at `at` past kMaxPredicateNesting
  /// levels (parentheses nest without adding to the expression, but recurse here).
  template <typename ParseFn>
  auto Nested(const Token& at, ParseFn&& parse) -> decltype(parse()) {
    if (nesting_ >= kMaxPredicateNesting) return TooManyNestedParentheses(at);
    ++nesting_;
    auto result = parse();
    --nesting_;
    return result;
  }

  arrow::Result<Parsed> ParsePredicateTerm() {
    ARROW_ASSIGN_OR_RAISE(Parsed left, ParseSum());
    const Token& token = Peek();
    if (token.kind == TokenKind::kSymbol) {
      static const char* kComparisons[] = {"=", "==", "!=", "<>", "<", "<=", ">", ">="};
      for (const char* op : kComparisons) {
        if (token.text != op) continue;
        ++position_;
        ARROW_ASSIGN_OR_RAISE(Parsed right, ParseSum());
        const std::string o = op;
        Expression l = std::move(left.expr);
        Expression r = std::move(right.expr);
        Expression compared = (o == "=" || o == "==") ? Equal(std::move(l), std::move(r))
                              : (o == "!=" || o == "<>") ? NotEqual(std::move(l), std::move(r))
                              : o == "<"                 ? Less(std::move(l), std::move(r))
                              : o == "<="                ? LessEqual(std::move(l), std::move(r))
                              : o == ">"                 ? Greater(std::move(l), std::move(r))
                                                         : GreaterEqual(std::move(l), std::move(r));
        return Built(token, std::move(compared), 1, {left.depth, right.depth});
      }
    }
    const bool negated = AcceptKeyword("NOT");
    const int64_t negation = negated ? 1 : 0;
    if (AcceptKeyword("IN")) {
      ARROW_ASSIGN_OR_RAISE(auto values, ParseValueList());
      Expression in = IsIn(std::move(left.expr), std::move(values));
      return Built(token, negated ? Not(std::move(in)) : std::move(in), 1 + negation, {left.depth});
    }
    if (AcceptKeyword("BETWEEN")) {
      ARROW_ASSIGN_OR_RAISE(Parsed low, ParseSum());
      if (!AcceptKeyword("AND")) return Error(Peek(), "expected AND in BETWEEN ... AND ...");
      ARROW_ASSIGN_OR_RAISE(Parsed high, ParseSum());
      Expression between = And(GreaterEqual(left.expr, std::move(low.expr)),
                               LessEqual(left.expr, std::move(high.expr)));
      return Built(token, negated ? Not(std::move(between)) : std::move(between), 2 + negation,
                   {left.depth, low.depth, high.depth});
    }
    if (negated) return Error(Peek(), "expected IN or BETWEEN after NOT");
    if (AcceptKeyword("IS")) {
      const bool is_not = AcceptKeyword("NOT");
      if (!AcceptKeyword("NULL")) return Error(Peek(), "expected NULL after IS");
      return Built(token, is_not ? IsValid(std::move(left.expr)) : IsNull(std::move(left.expr)), 1,
                   {left.depth});
    }
    return left;
  }

  arrow::Result<Parsed> ParseSum() {
    ARROW_ASSIGN_OR_RAISE(Parsed left, ParseProduct());
    while (true) {
      const Token& at = Peek();
      if (AcceptSymbol("+")) {
        ARROW_ASSIGN_OR_RAISE(Parsed right, ParseProduct());
        ARROW_ASSIGN_OR_RAISE(left, Built(at, Add(std::move(left.expr), std::move(right.expr)), 1,
                                          {left.depth, right.depth}));
      } else if (AcceptSymbol("-")) {
        ARROW_ASSIGN_OR_RAISE(Parsed right, ParseProduct());
        ARROW_ASSIGN_OR_RAISE(left, Built(at, Subtract(std::move(left.expr), std::move(right.expr)),
                                          1, {left.depth, right.depth}));
      } else {
        return left;
      }
    }
  }

  arrow::Result<Parsed> ParseProduct() {
    ARROW_ASSIGN_OR_RAISE(Parsed left, ParseUnary());
    while (true) {
      const Token& at = Peek();
      if (AcceptSymbol("*")) {
        ARROW_ASSIGN_OR_RAISE(Parsed right, ParseUnary());
        ARROW_ASSIGN_OR_RAISE(left, Built(at, Multiply(std::move(left.expr), std::move(right.expr)),
                                          1, {left.depth, right.depth}));
      } else if (AcceptSymbol("/")) {
        ARROW_ASSIGN_OR_RAISE(Parsed right, ParseUnary());
        // divide(cast(a), cast(b))
        ARROW_ASSIGN_OR_RAISE(left,
                              Built(at, TrueDivide(std::move(left.expr), std::move(right.expr)),
                                    2, {left.depth, right.depth}));
      } else if (AcceptSymbol("%")) {
        ARROW_ASSIGN_OR_RAISE(Parsed right, ParseUnary());
        // python_modulo(cast(a), cast(b))
        ARROW_ASSIGN_OR_RAISE(left, Built(at, Modulo(std::move(left.expr), std::move(right.expr)),
                                          2, {left.depth, right.depth}));
      } else {
        return left;
      }
    }
  }

  arrow::Result<Parsed> ParseUnary() {
    const Token& at = Peek();
    if (AcceptSymbol("-")) {
      ARROW_ASSIGN_OR_RAISE(Parsed operand, Nested(at, [this] { return ParseUnary(); }));
      return Built(at, Negate(std::move(operand.expr)), 1, {operand.depth});
    }
    return ParsePrimary();
  }

  arrow::Result<Parsed> ParsePrimary() {
    const Token& token = Peek();
    if (AcceptSymbol("(")) {
      ARROW_ASSIGN_OR_RAISE(Parsed inner, Nested(token, [this] { return ParseOr(); }));
      ARROW_RETURN_NOT_OK(Expect(")"));
      return inner;
    }
    if (token.kind == TokenKind::kQuotedIdentifier) {
      ++position_;
      return Parsed{Col(token.text), 1};
    }
    if (token.kind == TokenKind::kIdentifier) {
      static const char* kReserved[] = {"AND", "OR", "NOT", "IN", "IS", "BETWEEN"};
      for (const char* word : kReserved) {
        if (IsKeyword(token, word)) return Error(token, "unexpected " + Upper(token.text));
      }
    }
    if (token.kind == TokenKind::kIdentifier && !IsKeyword(token, "TRUE") &&
        !IsKeyword(token, "FALSE") && !IsKeyword(token, "NULL")) {
      ++position_;
      return Parsed{Col(token.text), 1};
    }
    ARROW_ASSIGN_OR_RAISE(std::shared_ptr<arrow::Scalar> value, ParseLiteral());
    return Parsed{arrow::compute::literal(std::move(value)), 1};
  }

  arrow::Result<std::shared_ptr<arrow::Scalar>> ParseLiteral() {
    const Token& token = Next();
    switch (token.kind) {
      case TokenKind::kString:
        return arrow::MakeScalar(token.text);
      case TokenKind::kNumber: {
        const bool is_float = token.text.find_first_of(".eE") != std::string::npos;
        char* end = nullptr;
        if (is_float) {
          const double value = std::strtod(token.text.c_str(), &end);
          if (*end != '\0') return Error(token, "bad number '" + token.text + "'");
          return arrow::MakeScalar(value);
        }
        errno = 0;
        const long long value = std::strtoll(token.text.c_str(), &end, 10);
        if (*end != '\0' || errno == ERANGE) {
          return Error(token, "bad integer '" + token.text + "'");
        }
        return arrow::MakeScalar(static_cast<int64_t>(value));
      }
      case TokenKind::kIdentifier:
        if (IsKeyword(token, "TRUE")) return arrow::MakeScalar(true);
        if (IsKeyword(token, "FALSE")) return arrow::MakeScalar(false);
        if (IsKeyword(token, "NULL")) return std::make_shared<arrow::NullScalar>();
        break;
      case TokenKind::kSymbol:
        if (token.text == "-") {
          ARROW_ASSIGN_OR_RAISE(auto value, Nested(token, [this] { return ParseLiteral(); }));
          if (value->type->id() == arrow::Type::INT64) {
            return arrow::MakeScalar(-static_cast<const arrow::Int64Scalar&>(*value).value);
          }
          if (value->type->id() == arrow::Type::DOUBLE) {
            return arrow::MakeScalar(-static_cast<const arrow::DoubleScalar&>(*value).value);
          }
        }
        break;
      default:
        break;
    }
    return Error(token, token.kind == TokenKind::kEnd
                            ? "unexpected end of the filter"
                            : "expected a value, found '" + token.text + "'");
  }

  /// "(v1, v2, ...)" as one array: all strings, all booleans, or numbers (int64, or
  /// double when any has a fraction).
  arrow::Result<std::shared_ptr<arrow::Array>> ParseValueList() {
    ARROW_RETURN_NOT_OK(Expect("("));
    std::vector<std::shared_ptr<arrow::Scalar>> values;
    do {
      const Token& at = Peek();
      ARROW_ASSIGN_OR_RAISE(auto value, ParseLiteral());
      if (value->type->id() == arrow::Type::NA) return Error(at, "NULL is not allowed in IN (...)");
      values.push_back(std::move(value));
    } while (AcceptSymbol(","));
    ARROW_RETURN_NOT_OK(Expect(")"));
    std::shared_ptr<arrow::DataType> type = values.front()->type;
    for (const auto& value : values) {
      if (value->type->Equals(*type)) continue;
      const bool numbers =
          (type->id() == arrow::Type::INT64 || type->id() == arrow::Type::DOUBLE) &&
          (value->type->id() == arrow::Type::INT64 || value->type->id() == arrow::Type::DOUBLE);
      if (!numbers) {
        return arrow::Status::Invalid("cannot parse filter ", Quoted(text_, 0),
                                      ": the values of an IN list must all be of one kind, "
                                      "found ",
                                      type->ToString(), " and ", value->type->ToString());
      }
      type = arrow::float64();
    }
    std::unique_ptr<arrow::ArrayBuilder> builder;
    ARROW_ASSIGN_OR_RAISE(builder, arrow::MakeBuilder(type));
    for (const auto& value : values) {
      ARROW_ASSIGN_OR_RAISE(auto cast, value->CastTo(type));
      ARROW_RETURN_NOT_OK(builder->AppendScalar(*cast));
    }
    return builder->Finish();
  }

  const std::string& text_;
  std::vector<Token> tokens_;
  size_t position_ = 0;
  int64_t nesting_ = 0;  // levels of recursion through Nested()
};

}  // namespace

arrow::Result<Expression> ParsePredicate(const std::string& text) {
  ARROW_ASSIGN_OR_RAISE(std::vector<Token> tokens, Tokenize(text));
  if (tokens.size() == 1) return arrow::Status::Invalid("the filter is empty");
  return Parser(text, std::move(tokens)).Parse();
}

}  // namespace sluice
