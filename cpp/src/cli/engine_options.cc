#include "cli/engine_options.h"

#include <cstdlib>
#include <exception>
#include <optional>
#include <string>

#include "sluice/config.h"

namespace sluice::cli {

namespace {

constexpr char kMemoryLimitVariable[] = "SLUICE_MEMORY_LIMIT";
constexpr char kThreadsVariable[] = "SLUICE_NUM_THREADS";
constexpr char kSpillDirVariable[] = "SLUICE_SPILL_DIR";

/// A setting's text and where it came from ("--threads" or "SLUICE_NUM_THREADS"), so
/// that an error points at what the user has to fix.
struct SettingText {
  std::string text;
  std::string origin;
  bool from_option = false;
};

std::optional<SettingText> FindSetting(const ParsedArguments& args, const std::string& option,
                                       const char* variable) {
  if (std::optional<std::string> value = args.Value(option)) {
    return SettingText{*value, "--" + option, true};
  }
  const char* env = std::getenv(variable);
  if (env != nullptr && *env != '\0') return SettingText{env, variable, false};
  return std::nullopt;
}

arrow::Status BadSetting(const SettingText& setting, const std::string& why) {
  std::string message = setting.origin + ": " + why;
  return setting.from_option ? UsageError(std::move(message))
                             : arrow::Status::Invalid(std::move(message));
}

arrow::Result<std::optional<int64_t>> MemoryLimitBytes(const ParsedArguments& args) {
  std::optional<SettingText> setting = FindSetting(args, "memory-limit", kMemoryLimitVariable);
  if (!setting) return std::nullopt;
  arrow::Result<int64_t> bytes;
  try {
    bytes = ParseByteSize(setting->text);
  } catch (const std::exception&) {
    // ParseByteSize converts with std::stod, which throws on numbers it cannot hold.
    bytes = arrow::Status::Invalid("cannot read a size from '", setting->text, "'");
  }
  if (!bytes.ok()) return BadSetting(*setting, bytes.status().message());
  if (*bytes <= 0) return BadSetting(*setting, "the memory limit must be positive");
  return *bytes;
}

arrow::Result<std::optional<int>> ThreadCount(const ParsedArguments& args) {
  std::optional<SettingText> setting = FindSetting(args, "threads", kThreadsVariable);
  if (!setting) return std::nullopt;
  const std::string& text = setting->text;
  int threads = 0;
  bool valid = !text.empty() && text.size() <= 6;
  for (char c : text) valid = valid && c >= '0' && c <= '9';
  if (valid) threads = std::stoi(text);
  if (!valid) {
    return BadSetting(*setting,
                      "expected a number of threads (0: one per core), got '" + text + "'");
  }
  return threads;
}

}  // namespace

void AddEngineOptions(ArgumentParser& parser) {
  parser.BeginOptionGroup("Engine options (every command)")
      .AddOption({.name = "memory-limit",
                  .value_name = "SIZE",
                  .help = "Memory budget for buffered data, e.g. 2GB or 512MiB; env "
                          "SLUICE_MEMORY_LIMIT.",
                  .default_text = "half of RAM"})
      .AddOption({.name = "threads",
                  .value_name = "N",
                  .help = "Worker threads, 0 for one per core; env SLUICE_NUM_THREADS.",
                  .default_text = "one per core"})
      .AddOption({.name = "spill-dir",
                  .value_name = "DIR",
                  .help = "Where operators that outgrow the memory budget write spill files; env "
                          "SLUICE_SPILL_DIR.",
                  .default_text = "$TMPDIR or /tmp"});
}

arrow::Status ConfigureEngine(const ParsedArguments& args) {
  EngineConfig config;
  ARROW_ASSIGN_OR_RAISE(std::optional<int64_t> memory_limit, MemoryLimitBytes(args));
  ARROW_ASSIGN_OR_RAISE(std::optional<int> threads, ThreadCount(args));
  if (memory_limit) config.memory_limit_bytes = *memory_limit;
  if (threads) config.num_threads = *threads;
  if (std::optional<SettingText> spill_dir = FindSetting(args, "spill-dir", kSpillDirVariable)) {
    config.spill_dir = spill_dir->text;
  }
  return Configure(config);
}

arrow::Status ExportEngineOptionsToEnvironment(const ParsedArguments& args) {
  // Validate here so that a typo is reported by the tool, not deep inside the job.
  ARROW_RETURN_NOT_OK(MemoryLimitBytes(args).status());
  ARROW_RETURN_NOT_OK(ThreadCount(args).status());
  if (std::optional<std::string> memory_limit = args.Value("memory-limit")) {
    setenv(kMemoryLimitVariable, memory_limit->c_str(), /*overwrite=*/1);
  }
  if (std::optional<std::string> threads = args.Value("threads")) {
    setenv(kThreadsVariable, threads->c_str(), /*overwrite=*/1);
  }
  if (std::optional<std::string> spill_dir = args.Value("spill-dir")) {
    setenv(kSpillDirVariable, spill_dir->c_str(), /*overwrite=*/1);
  }
  return arrow::Status::OK();
}

}  // namespace sluice::cli
