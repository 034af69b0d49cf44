// Entry point of the `sluice` command-line tool: parses the command name and the options
// that may precede it, dispatches to the command, and turns every failure into a message
// on stderr and an exit code (2: the tool was called wrongly, 1: the work failed).

#include <arrow/compute/initialize.h>
#include <arrow/config.h>

#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli/arguments.h"
#include "cli/command.h"
#include "cli/engine_options.h"
#include "sluice/config.h"

namespace sluice::cli {

namespace {

/// Keep in step with pyproject.toml: the tool and the Python package ship together.
constexpr char kSluiceVersion[] = SLUICE_VERSION;  // from pyproject.toml, via CMake

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

std::vector<Command> AllCommands() {
  return {MakeRunCommand(),     MakeInspectCommand(), MakeHeadCommand(),  MakeConvertCommand(),
          MakeCatalogCommand(), MakeCrawlCommand(),   MakeVacuumCommand()};
}

ArgumentParser MakeToolParser() {
  ArgumentParser parser("sluice", "Reads, inspects and converts datasets, and runs Sluice jobs.");
  parser.StopAtFirstPositional()
      .AddPositional({.name = "COMMAND", .help = "One of the commands below."})
      .AddPositional(
          {.name = "ARG", .help = "The command's arguments.", .min_count = 0, .max_count = -1})
      .AddOption({.name = "version", .help = "Print the version and exit.", .ends_parsing = true});
  AddEngineOptions(parser);
  return parser;
}

/// The first sentence of a command's description, for the command list.
std::string FirstSentence(const std::string& text) {
  size_t end = text.find(". ");
  return end == std::string::npos ? text : text.substr(0, end + 1);
}

std::string ToolHelp(const ArgumentParser& tool, const std::vector<Command>& commands) {
  std::string help = tool.Usage() + "\n\n" + tool.summary() + "\n\nCommands:\n";
  for (const auto& command : commands) {
    std::string name = "  " + command.name;
    name.resize(12, ' ');
    help += name + FirstSentence(command.make_parser().summary()) + "\n";
  }
  help += "\n" + tool.OptionsHelp();
  help += "\nRun 'sluice COMMAND --help' for a command's arguments and options.\n";
  return help;
}

int ReportUsageError(const std::string& program, const arrow::Status& status,
                     const std::string& usage) {
  std::cerr << program << ": error: " << status.message() << "\n"
            << usage << "\n"
            << "Run '" << program << " --help' for more information.\n";
  return kExitUsage;
}

int ReportFailure(const arrow::Status& status) {
  std::cerr << "sluice: error: " << status.message() << std::endl;
  return kExitFailure;
}

int RunTool(const std::vector<std::string>& args) {
  if (arrow::Status initialized = arrow::compute::Initialize(); !initialized.ok()) {
    return ReportFailure(initialized);
  }
  const std::vector<Command> commands = AllCommands();
  const ArgumentParser tool = MakeToolParser();
  if (args.empty()) {
    std::cerr << ToolHelp(tool, commands);
    return kExitUsage;
  }
  arrow::Result<ParsedArguments> tool_args = tool.Parse(args);
  if (!tool_args.ok()) return ReportUsageError("sluice", tool_args.status(), tool.Usage());
  if (tool_args->help_requested()) {
    std::cout << ToolHelp(tool, commands);
    return 0;
  }
  if (tool_args->Has("version")) {
    std::cout << "sluice " << kSluiceVersion << " (Apache Arrow "
              << arrow::GetBuildInfo().version_string << ")\n";
    return 0;
  }

  const std::string& name = tool_args->positionals().front();
  const Command* command = nullptr;
  for (const auto& candidate : commands) {
    if (candidate.name == name) command = &candidate;
  }
  if (command == nullptr) {
    std::string known;
    for (const auto& candidate : commands) known += (known.empty() ? "" : ", ") + candidate.name;
    return ReportUsageError(
        "sluice", arrow::Status::Invalid("unknown command '", name, "' (commands: ", known, ")"),
        tool.Usage());
  }

  // Engine options given before the command name apply to it as if given after.
  std::vector<std::string> command_tokens = tool_args->leading_tokens();
  const auto& rest = tool_args->passthrough();
  command_tokens.insert(command_tokens.end(), rest.begin(), rest.end());
  const ArgumentParser parser = command->make_parser();
  arrow::Result<ParsedArguments> command_args = parser.Parse(command_tokens);
  if (!command_args.ok()) {
    return ReportUsageError(parser.program(), command_args.status(), parser.Usage());
  }
  if (command_args->help_requested()) {
    std::cout << parser.Help();
    return 0;
  }
  arrow::Result<int> exit_code = command->run(*command_args);
  if (!exit_code.ok()) {
    if (IsUsageError(exit_code.status())) {
      return ReportUsageError(parser.program(), exit_code.status(), parser.Usage());
    }
    return ReportFailure(exit_code.status());
  }
  return *exit_code;
}

}  // namespace

}  // namespace sluice::cli

int main(int argc, char** argv) {
  // Nothing may escape as an uncaught exception (that would abort with a core dump);
  // the engine reports errors as Status, so reaching these handlers is a bug.
  try {
    const int exit_code = sluice::cli::RunTool(std::vector<std::string>(argv + 1, argv + argc));
    sluice::ReleaseProcessResources();
    return exit_code;
  } catch (const std::exception& error) {
    std::cerr << "sluice: error: internal error: " << error.what() << std::endl;
  } catch (...) {
    std::cerr << "sluice: error: internal error (unknown exception)" << std::endl;
  }
  return 1;
}
