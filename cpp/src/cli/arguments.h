#pragma once

// Command-line parsing for the sluice tool. Each command declares its options and
// positional arguments on an ArgumentParser; the parser both reads argv and writes the
// --help text from those declarations, so the two cannot drift apart.

#include <arrow/result.h>
#include <arrow/status.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sluice::cli {

/// An error in how the tool was called (unknown option, missing argument, bad value).
/// The tool answers it with the usage line and exit code 2, unlike runtime errors (1).
arrow::Status UsageError(std::string message);

/// True for a status made by UsageError.
bool IsUsageError(const arrow::Status& status);

/// One `--name` option of a command.
struct OptionSpec {
  /// Long name without the dashes, e.g. "memory-limit".
  std::string name{};
  /// One-letter alias (`-n`), or 0 for none.
  char short_name = 0;
  /// Placeholder for the value in the help text ("N", "SIZE"); empty for a flag that
  /// takes no value.
  std::string value_name{};
  std::string help{};
  /// Shown as "(default: ...)" in the help text; empty shows nothing.
  std::string default_text{};
  /// Like --help: once given, the rest of the line is neither read nor validated, so
  /// `sluice --version` needs no command.
  bool ends_parsing = false;
};

/// A positional argument (or a run of them) of a command.
struct PositionalSpec {
  /// Placeholder in the usage line, e.g. "PATH".
  std::string name{};
  std::string help{};
  int min_count = 1;
  /// -1: any number.
  int max_count = 1;
};

/// The outcome of ArgumentParser::Parse.
class ParsedArguments {
 public:
  /// True when --help or -h was given; nothing else was validated then.
  bool help_requested() const { return help_requested_; }

  /// The value of a value option, unset when it was not given (last one wins).
  std::optional<std::string> Value(const std::string& name) const;
  /// The value of a value option, or `fallback` when it was not given.
  std::string ValueOr(const std::string& name, const std::string& fallback) const;
  /// Whether a flag (or value option) was given.
  bool Has(const std::string& name) const;
  /// The option's value as an integer; a UsageError names the option if it is not one.
  arrow::Result<std::optional<int64_t>> IntValue(const std::string& name) const;

  /// Positional arguments, in order.
  const std::vector<std::string>& positionals() const { return positionals_; }
  /// With ArgumentParser::StopAtFirstPositional: every token after the first positional,
  /// untouched.
  const std::vector<std::string>& passthrough() const { return passthrough_; }
  /// With ArgumentParser::StopAtFirstPositional: the tokens before the first positional.
  const std::vector<std::string>& leading_tokens() const { return leading_tokens_; }

 private:
  friend class ArgumentParser;
  bool help_requested_ = false;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positionals_;
  std::vector<std::string> passthrough_;
  std::vector<std::string> leading_tokens_;
};

/// Declares and parses the arguments of one command. Accepted spellings: `--name value`,
/// `--name=value`, `-n value`, `-nvalue`, and `--` to end the options.
class ArgumentParser {
 public:
  /// `program` is how the command is called ("sluice head"); `summary` is one sentence.
  ArgumentParser(std::string program, std::string summary);

  /// Declares an option; an empty value_name makes it a flag.
  ArgumentParser& AddOption(OptionSpec option);
  /// Declares the next positional argument.
  ArgumentParser& AddPositional(PositionalSpec positional);
  /// Leaves every token after the first positional to ParsedArguments::passthrough(),
  /// for commands that hand the rest of the line to another program.
  ArgumentParser& StopAtFirstPositional();
  /// Free text printed at the end of --help, e.g. examples.
  ArgumentParser& SetEpilog(std::string epilog);
  /// Starts a titled group of options in the help text; later options belong to it.
  ArgumentParser& BeginOptionGroup(std::string title);

  /// Parses `args` (the tokens after the command name). Errors are UsageErrors.
  arrow::Result<ParsedArguments> Parse(const std::vector<std::string>& args) const;

  /// The one-line usage: "usage: sluice head [options] PATH".
  std::string Usage() const;
  /// The full --help text.
  std::string Help() const;
  /// The options under their group titles, as in --help (used for the top-level help).
  std::string OptionsHelp() const;

  const std::string& program() const { return program_; }
  const std::string& summary() const { return summary_; }

 private:
  struct DeclaredOption {
    OptionSpec spec;
    std::string group;
  };

  const DeclaredOption* FindLong(const std::string& name) const;
  const DeclaredOption* FindShort(char name) const;
  arrow::Status CheckPositionalCount(size_t count) const;

  std::string program_;
  std::string summary_;
  std::string epilog_;
  std::string current_group_ = "Options";
  std::vector<DeclaredOption> options_;
  std::vector<PositionalSpec> positionals_;
  bool stop_at_first_positional_ = false;
};

}  // namespace sluice::cli
