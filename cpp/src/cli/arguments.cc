#include "cli/arguments.h"

#include <algorithm>
#include <charconv>
#include <memory>
#include <sstream>

namespace sluice::cli {

namespace {

constexpr char kUsageErrorTypeId[] = "sluice::cli::UsageError";
/// Column where option descriptions start in --help, and the width they wrap at.
constexpr size_t kHelpColumn = 26;
constexpr size_t kHelpWidth = 92;

class UsageErrorDetail : public arrow::StatusDetail {
 public:
  const char* type_id() const override { return kUsageErrorTypeId; }
  std::string ToString() const override { return "usage error"; }
};

/// Appends `text` word-wrapped at kHelpWidth. The first line continues `line` (already
/// `indent` wide or wider); the following lines are indented by `indent` spaces.
void AppendWrapped(std::string line, size_t indent, const std::string& text,
                   std::ostringstream& out) {
  std::istringstream words(text);
  std::string word;
  bool line_has_word = false;
  while (words >> word) {
    if (line_has_word && line.size() + 1 + word.size() > kHelpWidth) {
      out << line << "\n";
      line = std::string(indent, ' ');
      line_has_word = false;
    }
    if (line_has_word) line += ' ';
    line += word;
    line_has_word = true;
  }
  out << line << "\n";
}

/// Appends `left` and the word-wrapped `text` as one entry of a two-column help list.
void AppendHelpEntry(const std::string& left, const std::string& text, std::ostringstream& out) {
  std::string line = "  " + left;
  if (line.size() + 2 > kHelpColumn) {
    out << line << "\n";
    line.clear();
  }
  line.resize(kHelpColumn, ' ');
  AppendWrapped(std::move(line), kHelpColumn, text, out);
}

std::string PositionalUsage(const PositionalSpec& positional) {
  std::string text = positional.name;
  if (positional.max_count != 1) text += "...";
  if (positional.min_count == 0) text = "[" + text + "]";
  return text;
}

}  // namespace

arrow::Status UsageError(std::string message) {
  return arrow::Status::Invalid(std::move(message))
      .WithDetail(std::make_shared<UsageErrorDetail>());
}

bool IsUsageError(const arrow::Status& status) {
  return status.detail() != nullptr &&
         std::string_view(status.detail()->type_id()) == kUsageErrorTypeId;
}

std::optional<std::string> ParsedArguments::Value(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string ParsedArguments::ValueOr(const std::string& name, const std::string& fallback) const {
  return Value(name).value_or(fallback);
}

bool ParsedArguments::Has(const std::string& name) const { return values_.count(name) > 0; }

arrow::Result<std::optional<int64_t>> ParsedArguments::IntValue(const std::string& name) const {
  std::optional<std::string> text = Value(name);
  if (!text) return std::nullopt;
  int64_t number = 0;
  const char* end = text->data() + text->size();
  auto [parsed_end, error] = std::from_chars(text->data(), end, number);
  if (error != std::errc() || parsed_end != end || text->empty()) {
    return UsageError("option --" + name + " expects an integer, got '" + *text + "'");
  }
  return number;
}

ArgumentParser::ArgumentParser(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {
  AddOption({.name = "help",
             .short_name = 'h',
             .help = "Show this help and exit.",
             .ends_parsing = true});
}

ArgumentParser& ArgumentParser::AddOption(OptionSpec option) {
  options_.push_back({std::move(option), current_group_});
  return *this;
}

ArgumentParser& ArgumentParser::AddPositional(PositionalSpec positional) {
  positionals_.push_back(std::move(positional));
  return *this;
}

ArgumentParser& ArgumentParser::StopAtFirstPositional() {
  stop_at_first_positional_ = true;
  return *this;
}

ArgumentParser& ArgumentParser::SetEpilog(std::string epilog) {
  epilog_ = std::move(epilog);
  return *this;
}

ArgumentParser& ArgumentParser::BeginOptionGroup(std::string title) {
  current_group_ = std::move(title);
  return *this;
}

const ArgumentParser::DeclaredOption* ArgumentParser::FindLong(const std::string& name) const {
  for (const auto& option : options_) {
    if (option.spec.name == name) return &option;
  }
  return nullptr;
}

const ArgumentParser::DeclaredOption* ArgumentParser::FindShort(char name) const {
  for (const auto& option : options_) {
    if (option.spec.short_name != 0 && option.spec.short_name == name) return &option;
  }
  return nullptr;
}

arrow::Status ArgumentParser::CheckPositionalCount(size_t count) const {
  size_t required = 0;
  for (const auto& positional : positionals_) {
    required += static_cast<size_t>(positional.min_count);
    if (count < required) return UsageError("missing argument " + positional.name);
  }
  size_t allowed = 0;
  for (const auto& positional : positionals_) {
    if (positional.max_count < 0) return arrow::Status::OK();
    allowed += static_cast<size_t>(positional.max_count);
  }
  if (count > allowed) {
    return UsageError("too many arguments: expected at most " + std::to_string(allowed) + ", got " +
                      std::to_string(count));
  }
  return arrow::Status::OK();
}

arrow::Result<ParsedArguments> ArgumentParser::Parse(const std::vector<std::string>& args) const {
  ParsedArguments parsed;
  bool options_ended = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& token = args[i];
    const bool looks_like_option = token.size() > 1 && token[0] == '-';
    if (!options_ended && token == "--") {
      options_ended = true;
      continue;
    }
    if (options_ended || !looks_like_option) {
      if (stop_at_first_positional_) {
        parsed.leading_tokens_.assign(args.begin(), args.begin() + static_cast<ptrdiff_t>(i));
        parsed.positionals_.push_back(token);
        parsed.passthrough_.assign(args.begin() + static_cast<ptrdiff_t>(i) + 1, args.end());
        break;
      }
      parsed.positionals_.push_back(token);
      continue;
    }

    const DeclaredOption* option = nullptr;
    std::string spelled;  // how the user wrote the option, for messages
    std::optional<std::string> attached_value;
    if (token.rfind("--", 0) == 0) {
      std::string name = token.substr(2);
      if (size_t equals = name.find('='); equals != std::string::npos) {
        attached_value = name.substr(equals + 1);
        name.resize(equals);
      }
      spelled = "--" + name;
      option = FindLong(name);
    } else {
      spelled = token.substr(0, 2);
      option = FindShort(token[1]);
      if (token.size() > 2) attached_value = token.substr(2);
    }
    if (option == nullptr) {
      return UsageError("unknown option '" + spelled + "' for '" + program_ + "'");
    }
    const OptionSpec& spec = option->spec;
    if (spec.name == "help") parsed.help_requested_ = true;
    if (spec.ends_parsing) {
      parsed.values_[spec.name] = "";
      return parsed;
    }
    if (spec.value_name.empty()) {
      if (attached_value) return UsageError("option " + spelled + " takes no value");
      parsed.values_[spec.name] = "";
      continue;
    }
    if (!attached_value) {
      if (i + 1 >= args.size()) {
        return UsageError("option " + spelled + " needs a value (" + spec.value_name + ")");
      }
      attached_value = args[++i];
    }
    parsed.values_[spec.name] = *attached_value;
  }

  const size_t positional_count = parsed.positionals_.size() + parsed.passthrough_.size();
  ARROW_RETURN_NOT_OK(CheckPositionalCount(positional_count));
  return parsed;
}

std::string ArgumentParser::Usage() const {
  std::string usage = "usage: " + program_ + " [options]";
  for (const auto& positional : positionals_) usage += " " + PositionalUsage(positional);
  return usage;
}

std::string ArgumentParser::OptionsHelp() const {
  std::ostringstream out;
  std::vector<std::string> groups;
  for (const auto& option : options_) {
    if (std::find(groups.begin(), groups.end(), option.group) == groups.end()) {
      groups.push_back(option.group);
    }
  }
  for (size_t g = 0; g < groups.size(); ++g) {
    if (g > 0) out << "\n";
    out << groups[g] << ":\n";
    for (const auto& option : options_) {
      if (option.group != groups[g]) continue;
      const OptionSpec& spec = option.spec;
      std::string left = spec.short_name != 0 ? std::string("-") + spec.short_name + ", " : "";
      left += "--" + spec.name;
      if (!spec.value_name.empty()) left += " " + spec.value_name;
      std::string text = spec.help;
      if (!spec.default_text.empty()) text += " (default: " + spec.default_text + ")";
      AppendHelpEntry(left, text, out);
    }
  }
  return out.str();
}

std::string ArgumentParser::Help() const {
  std::ostringstream out;
  out << Usage() << "\n\n";
  AppendWrapped("", 0, summary_, out);
  if (!positionals_.empty()) {
    out << "\nArguments:\n";
    for (const auto& positional : positionals_) {
      AppendHelpEntry(PositionalUsage(positional), positional.help, out);
    }
  }
  out << "\n" << OptionsHelp();
  if (!epilog_.empty()) out << "\n" << epilog_;
  if (!epilog_.empty() && epilog_.back() != '\n') out << "\n";
  return out.str();
}

}  // namespace sluice::cli
