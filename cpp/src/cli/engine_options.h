#pragma once

// The options every command accepts to size the engine (--memory-limit, --threads), with
// the environment variables the Python package also reads (SLUICE_MEMORY_LIMIT,
// SLUICE_NUM_THREADS) as their defaults.

#include <arrow/status.h>

#include "cli/arguments.h"

namespace sluice::cli {

/// Declares --memory-limit and --threads on `parser`, under their own help heading.
void AddEngineOptions(ArgumentParser& parser);

/// Calls sluice::Configure with the options in `args`, or the environment defaults.
/// Bad values are UsageErrors naming the option or variable.
arrow::Status ConfigureEngine(const ParsedArguments& args);

/// Validates the options in `args` and stores them in SLUICE_MEMORY_LIMIT and
/// SLUICE_NUM_THREADS, so that a Python process started from here configures itself
/// the same way.
arrow::Status ExportEngineOptionsToEnvironment(const ParsedArguments& args);

}  // namespace sluice::cli
