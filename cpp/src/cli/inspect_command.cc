// `sluice inspect PATH...`: what a dataset holds without reading it. For Parquet every
// number comes from the file footers (schema, rows, uncompressed size), so it answers in
// milliseconds however large the data; for text formats the schema is inferred from the
// first block of the first file and rows are counted only on request.

#include <algorithm>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "cli/engine_options.h"
#include "cli/input_dataset.h"
#include "sluice/config.h"

namespace sluice::cli {

namespace {

constexpr int64_t kDefaultListedFiles = 20;

ArgumentParser MakeInspectParser() {
  ArgumentParser parser("sluice inspect",
                        "Prints a dataset's schema, row count, size, files and partition "
                        "columns. Parquet answers from the footers without reading data.");
  parser
      .AddPositional({.name = "PATH",
                      .help = "Files, directories or globs of one dataset.",
                      .min_count = 1,
                      .max_count = -1})
      .AddOption({.name = "count",
                  .help = "Also count the rows of CSV, JSON and text input (reads all of it; "
                          "Parquet rows are always counted, from the footers)."})
      .AddOption({.name = "max-files",
                  .value_name = "N",
                  .help = "List at most N files.",
                  .default_text = std::to_string(kDefaultListedFiles)});
  AddInputOptions(parser, "format");
  AddEngineOptions(parser);
  parser.SetEpilog(
      "Examples:\n"
      "  sluice inspect data/events/\n"
      "  sluice inspect 'logs/*.csv.gz' --count\n");
  return parser;
}

/// Hive partition keys: the `key` of every `key=value` directory between a listed
/// directory and its files, in the order they first appear.
std::vector<std::string> DirectoryPartitionKeys(const std::vector<ListedDataFile>& listing) {
  std::vector<std::string> keys;
  for (const auto& file : listing) {
    if (file.base_dir.empty() || file.path.size() <= file.base_dir.size()) continue;
    std::string_view relative = file.path;
    relative.remove_prefix(file.base_dir.size());
    while (!relative.empty() && relative.front() == '/') relative.remove_prefix(1);
    size_t slash;
    while ((slash = relative.find('/')) != std::string_view::npos) {
      std::string_view directory = relative.substr(0, slash);
      relative.remove_prefix(slash + 1);
      size_t equals = directory.find('=');
      if (equals == std::string_view::npos || equals == 0) continue;
      std::string key(directory.substr(0, equals));
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
  }
  return keys;
}

std::string Join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string joined;
  for (const auto& part : parts) joined += (joined.empty() ? "" : separator) + part;
  return joined;
}

void PrintField(const std::string& label, const std::string& value, std::ostream& out) {
  std::string padded = label + ":";
  padded.resize(std::max<size_t>(padded.size() + 1, 12), ' ');
  out << padded << value << "\n";
}

arrow::Result<int> RunInspect(const ParsedArguments& args) {
  ARROW_ASSIGN_OR_RAISE(std::optional<int64_t> max_files_option, args.IntValue("max-files"));
  const int64_t max_files = max_files_option.value_or(kDefaultListedFiles);
  if (max_files < 0) return UsageError("option --max-files must not be negative");
  ARROW_ASSIGN_OR_RAISE(InputRequest request,
                        InputRequestFromArguments(args.positionals(), args, "format"));
  ARROW_RETURN_NOT_OK(ConfigureEngine(args));

  ARROW_ASSIGN_OR_RAISE(InputDataset input, OpenInputDataset(request));
  // Parquet footers hold row counts and sizes; other formats must be read to know them.
  const bool metadata_answers = input.format == "parquet";
  ARROW_ASSIGN_OR_RAISE(std::shared_ptr<arrow::Schema> schema, input.dataset.Schema());
  std::optional<int64_t> rows;
  if (metadata_answers || args.Has("count")) {
    ARROW_ASSIGN_OR_RAISE(rows, input.dataset.Count());
  }
  std::optional<int64_t> in_memory_bytes;
  if (metadata_answers) {
    ARROW_ASSIGN_OR_RAISE(in_memory_bytes, input.dataset.SizeBytes());
  }
  int64_t on_disk_bytes = 0;
  for (const auto& file : input.listing) {
    on_disk_bytes += std::max<int64_t>(0, file.size);  // size() is -1 when unknown
  }
  const std::vector<std::string> directory_keys = DirectoryPartitionKeys(input.listing);
  // Only the Parquet reader turns key=value directories into columns.
  const std::vector<std::string> partitions =
      metadata_answers ? directory_keys : std::vector<std::string>{};

  std::ostringstream out;
  PrintField("path", Join(request.paths, ", "), out);
  PrintField("format", input.format, out);
  PrintField("files", std::to_string(input.listing.size()), out);
  PrintField("rows", rows ? std::to_string(*rows) : "not counted (pass --count to read the data)",
             out);
  std::string size = sluice::FormatByteSize(on_disk_bytes) + " on disk";
  if (in_memory_bytes) size += ", " + sluice::FormatByteSize(*in_memory_bytes) + " uncompressed";
  PrintField("size", size, out);
  if (!partitions.empty()) {
    PrintField("partitions", Join(partitions, ", "), out);
  } else if (!directory_keys.empty()) {
    PrintField("partitions",
               "none (" + Join(directory_keys, ", ") +
                   " directories are read as columns only from Parquet)",
               out);
  } else {
    PrintField("partitions", "none", out);
  }
  out << "schema:\n";
  for (const auto& field : schema->fields()) {
    out << "  " << field->name() << ": " << field->type()->ToString();
    if (!field->nullable()) out << " not null";
    if (std::find(partitions.begin(), partitions.end(), field->name()) != partitions.end()) {
      out << "  (partition)";
    }
    out << "\n";
  }
  out << "file list:\n";
  const auto& files = input.listing;
  const size_t shown = std::min(files.size(), static_cast<size_t>(max_files));
  for (size_t i = 0; i < shown; ++i) out << "  " << files[i].path << "\n";
  if (files.size() > shown) out << "  ... " << files.size() - shown << " more\n";
  std::cout << out.str() << std::flush;
  return 0;
}

}  // namespace

Command MakeInspectCommand() { return Command{"inspect", MakeInspectParser, RunInspect}; }

}  // namespace sluice::cli
