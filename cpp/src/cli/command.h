#pragma once

// The subcommands of the sluice tool. main.cc dispatches on the first argument; each
// command lives in its own <name>_command.cc and is reached through its factory here.

#include <arrow/result.h>

#include <functional>
#include <string>

#include "cli/arguments.h"

namespace sluice::cli {

/// One subcommand: its declared arguments and what it does with them.
struct Command {
  std::string name;
  /// Builds the parser with every option the command accepts; its --help comes from it.
  std::function<ArgumentParser()> make_parser;
  /// Runs the command. Returns the process exit code; runtime failures are errors
  /// (exit code 1) and misuse is a UsageError (exit code 2).
  std::function<arrow::Result<int>(const ParsedArguments&)> run;
};

/// `sluice run JOB.py [--key value ...]`: runs a Python job in the venv's interpreter.
Command MakeRunCommand();
/// `sluice inspect PATH...`: schema, row count, size and files, from metadata when it can.
Command MakeInspectCommand();
/// `sluice head PATH`: the first rows as a text table.
Command MakeHeadCommand();
/// `sluice convert INPUT... OUTPUT`: rewrites a dataset in another format or layout.
Command MakeConvertCommand();
/// `sluice vacuum PATH...`: removes what failed or killed writes left behind.
Command MakeVacuumCommand();
/// `sluice catalog ACTION [NAME]`: databases, tables, partitions, history.
Command MakeCatalogCommand();
/// `sluice crawl PATH --table db.t`: registers existing data as a table.
Command MakeCrawlCommand();

}  // namespace sluice::cli
