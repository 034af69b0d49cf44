// ParsePredicate: a recursive-descent parser for the SQL-style filters that the catalog
// CLI and sl.catalog take as text ("year = 2015 AND marketplace IN ('US','UK')").

#include <arrow/array/builder_base.h>
#include <arrow/array/builder_binary.h>
#include <arrow/array/builder_primitive.h>
#include <arrow/scalar.h>

#include <cctype>
#include <cstdlib>
#include <string>
#include <vector>

#include "sluice/expression.h"

namespace sluice {

namespace {

enum class TokenKind { kIdentifier, kQuotedIdentifier, kNumber, kString, kSymbol, kEnd };

struct Token {
  TokenKind kind;
  std::string text;
  size_t position;
};

arrow::Result<std::vector<Token>> Tokenize(const std::string& text) {
  std::vector<Token> tokens;
  size_t i = 0;
  auto error = [&](size_t at, const std::string& what) {
    return arrow::Status::Invalid("cannot parse filter '", text, "' at position ", at + 1, ": ",
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
    ARROW_ASSIGN_OR_RAISE(Expression result, ParseOr());
    if (Peek().kind != TokenKind::kEnd) return Error(Peek(), "unexpected '" + Peek().text + "'");
    return result;
  }

 private:
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
    return arrow::Status::Invalid("cannot parse filter '", text_, "' at position ", at.position + 1,
                                  ": ", what);
  }
  arrow::Status Expect(const char* symbol) {
    if (AcceptSymbol(symbol)) return arrow::Status::OK();
    return Error(Peek(), std::string("expected '") + symbol + "'" +
                             (Peek().kind == TokenKind::kEnd ? " at the end"
                                                             : ", found '" + Peek().text + "'"));
  }

  arrow::Result<Expression> ParseOr() {
    ARROW_ASSIGN_OR_RAISE(Expression left, ParseAnd());
    while (AcceptKeyword("OR")) {
      ARROW_ASSIGN_OR_RAISE(Expression right, ParseAnd());
      left = Or(std::move(left), std::move(right));
    }
    return left;
  }

  arrow::Result<Expression> ParseAnd() {
    ARROW_ASSIGN_OR_RAISE(Expression left, ParseNot());
    while (AcceptKeyword("AND")) {
      ARROW_ASSIGN_OR_RAISE(Expression right, ParseNot());
      left = And(std::move(left), std::move(right));
    }
    return left;
  }

  arrow::Result<Expression> ParseNot() {
    if (AcceptKeyword("NOT")) {
      ARROW_ASSIGN_OR_RAISE(Expression operand, ParseNot());
      return Not(std::move(operand));
    }
    return ParsePredicateTerm();
  }

  arrow::Result<Expression> ParsePredicateTerm() {
    ARROW_ASSIGN_OR_RAISE(Expression left, ParseSum());
    const Token& token = Peek();
    if (token.kind == TokenKind::kSymbol) {
      static const char* kComparisons[] = {"=", "==", "!=", "<>", "<", "<=", ">", ">="};
      for (const char* op : kComparisons) {
        if (token.text != op) continue;
        ++position_;
        ARROW_ASSIGN_OR_RAISE(Expression right, ParseSum());
        const std::string o = op;
        if (o == "=" || o == "==") return Equal(std::move(left), std::move(right));
        if (o == "!=" || o == "<>") return NotEqual(std::move(left), std::move(right));
        if (o == "<") return Less(std::move(left), std::move(right));
        if (o == "<=") return LessEqual(std::move(left), std::move(right));
        if (o == ">") return Greater(std::move(left), std::move(right));
        return GreaterEqual(std::move(left), std::move(right));
      }
    }
    const bool negated = AcceptKeyword("NOT");
    if (AcceptKeyword("IN")) {
      ARROW_ASSIGN_OR_RAISE(auto values, ParseValueList());
      Expression in = IsIn(std::move(left), std::move(values));
      return negated ? Not(std::move(in)) : in;
    }
    if (AcceptKeyword("BETWEEN")) {
      ARROW_ASSIGN_OR_RAISE(Expression low, ParseSum());
      if (!AcceptKeyword("AND")) return Error(Peek(), "expected AND in BETWEEN ... AND ...");
      ARROW_ASSIGN_OR_RAISE(Expression high, ParseSum());
      Expression between =
          And(GreaterEqual(left, std::move(low)), LessEqual(left, std::move(high)));
      return negated ? Not(std::move(between)) : between;
    }
    if (negated) return Error(Peek(), "expected IN or BETWEEN after NOT");
    if (AcceptKeyword("IS")) {
      const bool is_not = AcceptKeyword("NOT");
      if (!AcceptKeyword("NULL")) return Error(Peek(), "expected NULL after IS");
      return is_not ? IsValid(std::move(left)) : IsNull(std::move(left));
    }
    return left;
  }

  arrow::Result<Expression> ParseSum() {
    ARROW_ASSIGN_OR_RAISE(Expression left, ParseProduct());
    while (true) {
      if (AcceptSymbol("+")) {
        ARROW_ASSIGN_OR_RAISE(Expression right, ParseProduct());
        left = Add(std::move(left), std::move(right));
      } else if (AcceptSymbol("-")) {
        ARROW_ASSIGN_OR_RAISE(Expression right, ParseProduct());
        left = Subtract(std::move(left), std::move(right));
      } else {
        return left;
      }
    }
  }

  arrow::Result<Expression> ParseProduct() {
    ARROW_ASSIGN_OR_RAISE(Expression left, ParseUnary());
    while (true) {
      if (AcceptSymbol("*")) {
        ARROW_ASSIGN_OR_RAISE(Expression right, ParseUnary());
        left = Multiply(std::move(left), std::move(right));
      } else if (AcceptSymbol("/")) {
        ARROW_ASSIGN_OR_RAISE(Expression right, ParseUnary());
        left = TrueDivide(std::move(left), std::move(right));
      } else if (AcceptSymbol("%")) {
        ARROW_ASSIGN_OR_RAISE(Expression right, ParseUnary());
        left = Modulo(std::move(left), std::move(right));
      } else {
        return left;
      }
    }
  }

  arrow::Result<Expression> ParseUnary() {
    if (AcceptSymbol("-")) {
      ARROW_ASSIGN_OR_RAISE(Expression operand, ParseUnary());
      return Negate(std::move(operand));
    }
    return ParsePrimary();
  }

  arrow::Result<Expression> ParsePrimary() {
    const Token& token = Peek();
    if (AcceptSymbol("(")) {
      ARROW_ASSIGN_OR_RAISE(Expression inner, ParseOr());
      ARROW_RETURN_NOT_OK(Expect(")"));
      return inner;
    }
    if (token.kind == TokenKind::kQuotedIdentifier) {
      ++position_;
      return Col(token.text);
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
      return Col(token.text);
    }
    ARROW_ASSIGN_OR_RAISE(std::shared_ptr<arrow::Scalar> value, ParseLiteral());
    return arrow::compute::literal(std::move(value));
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
          ARROW_ASSIGN_OR_RAISE(auto value, ParseLiteral());
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
        return arrow::Status::Invalid("cannot parse filter '", text_,
                                      "': the values of an IN list must all be of one kind, "
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
};

}  // namespace

arrow::Result<Expression> ParsePredicate(const std::string& text) {
  ARROW_ASSIGN_OR_RAISE(std::vector<Token> tokens, Tokenize(text));
  if (tokens.size() == 1) return arrow::Status::Invalid("the filter is empty");
  return Parser(text, std::move(tokens)).Parse();
}

}  // namespace sluice
