// `sluice vacuum PATH`: removes what failed or killed writes left in a directory written
// by Sluice (staging directories, published but uncommitted files). Every write does this
// for its target too; the command is for directories no one writes to any more.

#include <iostream>

#include "cli/command.h"
#include "cli/engine_options.h"
#include "sluice/config.h"
#include "sluice/vacuum.h"

namespace sluice::cli {

namespace {

constexpr int64_t kDefaultRetentionHours = 24;

ArgumentParser MakeVacuumParser() {
  ArgumentParser parser("sluice vacuum",
                        "Removes staging directories and uncommitted data files that failed "
                        "or killed writes left in a directory written by Sluice.");
  parser
      .AddPositional({.name = "PATH",
                      .help = "Directories written by Sluice (local or s3://).",
                      .min_count = 1,
                      .max_count = -1})
      .AddOption({.name = "retention-hours",
                  .value_name = "H",
                  .help = "Staging directories of writes on other hosts are removed once this "
                          "old (this host's as soon as their process is gone).",
                  .default_text = std::to_string(kDefaultRetentionHours)})
      .AddOption({.name = "verbose", .short_name = 'v', .help = "List every removed path."});
  AddEngineOptions(parser);
  parser.SetEpilog(
      "Examples:\n"
      "  sluice vacuum out/reviews\n"
      "  sluice vacuum s3://lake/reviews --s3-endpoint http://127.0.0.1:9000\n");
  return parser;
}

arrow::Result<int> RunVacuum(const ParsedArguments& args) {
  ARROW_ASSIGN_OR_RAISE(std::optional<int64_t> hours, args.IntValue("retention-hours"));
  if (hours && *hours < 0) return UsageError("option --retention-hours must not be negative");
  ARROW_RETURN_NOT_OK(ConfigureEngine(args));
  const bool verbose = args.Has("verbose");
  for (const auto& path : args.positionals()) {
    ARROW_ASSIGN_OR_RAISE(VacuumResult result,
                          Vacuum(path, hours.value_or(kDefaultRetentionHours) * 3600));
    std::cout << path << ": removed " << result.removed_staging_dirs.size()
              << " abandoned staging director"
              << (result.removed_staging_dirs.size() == 1 ? "y" : "ies") << " and "
              << result.removed_files.size() << " uncommitted file"
              << (result.removed_files.size() == 1 ? "" : "s") << " ("
              << FormatByteSize(result.removed_bytes) << ")\n";
    if (verbose) {
      for (const auto& dir : result.removed_staging_dirs) std::cout << "  " << dir << "/\n";
      for (const auto& file : result.removed_files) std::cout << "  " << file << "\n";
    }
  }
  std::cout << std::flush;
  return 0;
}

}  // namespace

Command MakeVacuumCommand() { return Command{"vacuum", MakeVacuumParser, RunVacuum}; }

}  // namespace sluice::cli
