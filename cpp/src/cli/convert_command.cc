// `sluice convert INPUT... OUTPUT`: reads a dataset and writes it in another format,
// compression or partition layout, streaming (the input is never held in memory whole).

#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "cli/engine_options.h"
#include "cli/input_dataset.h"
#include "sluice/config.h"
#include "sluice/formats.h"

namespace sluice::cli {

namespace {

ArgumentParser MakeConvertParser() {
  ArgumentParser parser("sluice convert",
                        "Converts a dataset to Parquet, CSV or JSON lines. It streams, so "
                        "the input may be larger than memory, and can partition the output "
                        "into key=value directories.");
  parser
      .AddPositional({.name = "INPUT",
                      .help = "Files, directories or globs to read.",
                      .min_count = 1,
                      .max_count = -1})
      .AddPositional({.name = "OUTPUT", .help = "Directory to write the files into."})
      .AddOption({.name = "to",
                  .value_name = "FORMAT",
                  .help = "Output format: parquet, csv or json (JSON lines). Needed unless "
                          "OUTPUT ends in .parquet, .pq, .csv, .tsv, .json, .jsonl or "
                          ".ndjson."})
      .AddOption({.name = "partition-by",
                  .value_name = "C1,C2",
                  .help = "Write Hive-style key=value directories on these columns."})
      .AddOption({.name = "mode",
                  .value_name = "MODE",
                  .help = "What to do when OUTPUT holds data: error, append, overwrite or "
                          "overwrite_partitions.",
                  .default_text = "error"})
      .AddOption({.name = "replace-foreign-files",
                  .help = "Let an overwrite delete files in OUTPUT that Sluice did not write "
                          "and remove symbolic links there (never what they point to); "
                          "without it such an overwrite is refused."})
      .AddOption({.name = "compression",
                  .value_name = "CODEC",
                  .help = "Parquet: snappy, zstd, gzip, lz4, brotli or none. CSV/JSON: none, "
                          "gzip, zstd or bz2.",
                  .default_text = "snappy for Parquet, else from OUTPUT's suffix or none"})
      .AddOption({.name = "max-rows-per-file",
                  .value_name = "N",
                  .help = "Start a new file after N rows."});
  AddInputOptions(parser, "from");
  AddEngineOptions(parser);
  parser.SetEpilog(
      "Examples:\n"
      "  sluice convert data/tsv/ out/json --to json --delimiter '\\t'\n"
      "  sluice convert events.csv.gz out/events.parquet --partition-by year,month\n"
      "  sluice convert 'raw/*.jsonl' out/csv --to csv --compression gzip --mode overwrite\n");
  return parser;
}

/// OUTPUT's last path component, without trailing slashes.
std::string_view OutputName(std::string_view output) {
  while (output.size() > 1 && output.back() == '/') output.remove_suffix(1);
  size_t slash = output.find_last_of('/');
  return slash == std::string_view::npos ? output : output.substr(slash + 1);
}

/// The canonical name of the format to write.
arrow::Result<std::string> OutputFormat(const ParsedArguments& args, std::string_view output) {
  if (std::optional<std::string> to = args.Value("to")) {
    return ParseFormatOption(*to, "--to", /*for_writing=*/true);
  }
  std::optional<std::string> implied = FileFormatFromFileName(OutputName(output));
  if (!implied) {
    return UsageError("cannot tell the output format from '" + std::string(output) +
                      "'; pass --to parquet, --to csv or --to json");
  }
  return ParseFormatOption(*implied, "--to (implied by '" + std::string(output) + "')",
                           /*for_writing=*/true);
}

arrow::Result<std::vector<std::string>> PartitionColumns(const std::string& text) {
  std::vector<std::string> columns;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string column = text.substr(start, comma - start);
    column.erase(0, column.find_first_not_of(' '));
    column.erase(column.find_last_not_of(' ') + 1);
    if (!column.empty()) columns.push_back(std::move(column));
    start = comma + 1;
  }
  if (columns.empty()) return UsageError("option --partition-by needs at least one column");
  return columns;
}

arrow::Result<WriteOptions> WriteOptionsFromArguments(const ParsedArguments& args,
                                                      const std::string& format,
                                                      std::string_view output) {
  WriteOptions options;
  if (std::optional<std::string> mode = args.Value("mode")) {
    arrow::Result<WriteMode> parsed = ParseWriteMode(*mode);
    if (!parsed.ok()) return UsageError("option --mode: " + parsed.status().message());
    options.mode = *parsed;
  }
  options.replace_foreign_files = args.Has("replace-foreign-files");
  if (std::optional<std::string> columns = args.Value("partition-by")) {
    ARROW_ASSIGN_OR_RAISE(options.partition_cols, PartitionColumns(*columns));
  }
  ARROW_ASSIGN_OR_RAISE(std::optional<int64_t> max_rows, args.IntValue("max-rows-per-file"));
  if (max_rows) {
    if (*max_rows <= 0) return UsageError("option --max-rows-per-file must be positive");
    options.max_rows_per_file = *max_rows;
  }
  const std::string_view name = OutputName(output);
  if (std::optional<std::string> compression = args.Value("compression")) {
    options.compression = *compression;
  } else if (format != "parquet") {  // Parquet compresses inside the file
    // "out.csv.gz" asks for gzip just as clearly as --compression gzip does.
    options.compression = CompressionFromFileName(name).value_or("");
  }
  if (format == "csv" && IsTabSeparatedFileName(name)) options.delimiter = '\t';
  return options;
}

arrow::Result<int> RunConvert(const ParsedArguments& args) {
  const std::vector<std::string>& positionals = args.positionals();
  const std::string output = positionals.back();
  std::vector<std::string> inputs(positionals.begin(), positionals.end() - 1);
  ARROW_ASSIGN_OR_RAISE(std::string output_format, OutputFormat(args, output));
  ARROW_ASSIGN_OR_RAISE(WriteOptions write_options,
                        WriteOptionsFromArguments(args, output_format, output));
  ARROW_ASSIGN_OR_RAISE(InputRequest request,
                        InputRequestFromArguments(std::move(inputs), args, "from"));
  ARROW_RETURN_NOT_OK(ConfigureEngine(args));

  const auto start = std::chrono::steady_clock::now();
  ARROW_ASSIGN_OR_RAISE(InputDataset input, OpenInputDataset(request));
  ARROW_ASSIGN_OR_RAISE(WriteResult written,
                        input.dataset.Write(output_format, output, write_options));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  char elapsed[32];
  std::snprintf(elapsed, sizeof(elapsed), "%.2f", seconds);
  std::cout << "converted " << written.rows << " rows from " << input.listing.size() << " "
            << input.format << " file" << (input.listing.size() == 1 ? "" : "s")
            << " into " << written.files.size() << " " << output_format << " file"
            << (written.files.size() == 1 ? "" : "s") << " ("
            << sluice::FormatByteSize(written.bytes) << ") under " << output << " in " << elapsed
            << " s" << std::endl;
  return 0;
}

}  // namespace

Command MakeConvertCommand() { return Command{"convert", MakeConvertParser, RunConvert}; }

}  // namespace sluice::cli
