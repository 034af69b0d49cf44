// `sluice head PATH`: the first rows of a dataset as an aligned text table. The limit is
// part of the plan, so the readers stop after the rows needed (Parquet reads only the
// first row groups, CSV only the first file's first blocks).

#include <iostream>

#include "cli/command.h"
#include "cli/engine_options.h"
#include "cli/input_dataset.h"
#include "cli/text_table.h"

namespace sluice::cli {

namespace {

constexpr int64_t kDefaultRows = 10;

ArgumentParser MakeHeadParser() {
  ArgumentParser parser("sluice head", "Prints the first rows of a dataset as a text table.");
  parser
      .AddPositional({.name = "PATH",
                      .help = "File, directory or glob to read.",
                      .min_count = 1,
                      .max_count = -1})
      .AddOption({.name = "rows",
                  .short_name = 'n',
                  .value_name = "N",
                  .help = "Number of rows to print.",
                  .default_text = std::to_string(kDefaultRows)});
  AddInputOptions(parser, "format");
  AddEngineOptions(parser);
  parser.SetEpilog(
      "Examples:\n"
      "  sluice head data/events/ -n 5\n"
      "  sluice head 'logs/*.tsv.gz' --delimiter '\\t'\n");
  return parser;
}

arrow::Result<int> RunHead(const ParsedArguments& args) {
  ARROW_ASSIGN_OR_RAISE(std::optional<int64_t> rows_option, args.IntValue("rows"));
  const int64_t rows = rows_option.value_or(kDefaultRows);
  if (rows < 0) return UsageError("option --rows must not be negative");
  ARROW_ASSIGN_OR_RAISE(InputRequest request,
                        InputRequestFromArguments(args.positionals(), args, "format"));
  ARROW_RETURN_NOT_OK(ConfigureEngine(args));

  ARROW_ASSIGN_OR_RAISE(InputDataset input, OpenInputDataset(request));
  ARROW_ASSIGN_OR_RAISE(Dataset first_rows, input.dataset.Limit(rows));
  ARROW_ASSIGN_OR_RAISE(auto reader, first_rows.Execute());
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  while (true) {
    std::shared_ptr<arrow::RecordBatch> batch;
    ARROW_RETURN_NOT_OK(reader->ReadNext(&batch));
    if (!batch) break;
    batches.push_back(std::move(batch));
  }
  ARROW_ASSIGN_OR_RAISE(std::string table, FormatTextTable(*reader->schema(), batches));
  std::cout << table << std::flush;
  return 0;
}

}  // namespace

Command MakeHeadCommand() { return Command{"head", MakeHeadParser, RunHead}; }

}  // namespace sluice::cli
