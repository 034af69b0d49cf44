#pragma once

// Opening the dataset a command reads: listing the user's paths, telling the format
// from the file names unless it was given, and calling the matching Dataset::Read*.

#include <arrow/result.h>

#include <optional>
#include <string>
#include <vector>

#include "cli/arguments.h"
#include "cli/data_format.h"
#include "sluice/listing.h"
#include "sluice/dataset.h"

namespace sluice::cli {

/// What a command was told to read.
struct InputRequest {
  /// Files, directories or globs.
  std::vector<std::string> paths;
  /// A format's canonical name; unset: told from the listed files' names.
  std::optional<std::string> format;
  /// CSV delimiter. Unset: a tab for .tsv files, else a comma.
  std::optional<char> delimiter;
  /// --follow-symlinks: follow links that leave the directories read.
  bool follow_symlinks = false;
  /// CSV and JSON: fail on a bad record (default) or skip it.
  BadLineAction on_bad_lines = BadLineAction::kError;
  /// CSV, JSON and text: invalid UTF-8 fails (default) or reads as U+FFFD.
  EncodingErrors encoding_errors = EncodingErrors::kStrict;
};

/// An opened input and what was learnt while opening it.
struct InputDataset {
  Dataset dataset;
  /// The format's canonical name.
  std::string format;
  /// The data files behind the dataset, sorted by path.
  std::vector<ListedDataFile> listing;
};

/// Declares the --format, --delimiter, --follow-symlinks, --on-bad-lines and
/// --encoding-errors options that describe an input.
/// `format_option` is "format" for commands with one input and "from" for convert.
void AddInputOptions(ArgumentParser& parser, const std::string& format_option);

/// Builds an InputRequest from `paths` and the options AddInputOptions declared.
arrow::Result<InputRequest> InputRequestFromArguments(std::vector<std::string> paths,
                                                      const ParsedArguments& args,
                                                      const std::string& format_option);

/// Lists the paths and opens the dataset. Errors name the offending path.
arrow::Result<InputDataset> OpenInputDataset(const InputRequest& request);

}  // namespace sluice::cli
