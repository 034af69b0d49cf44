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

/// Settings taken as text, with the CLI option and environment variable for each.
struct TextSetting {
  const char* option;
  const char* variable;
  std::string EngineConfig::*field;
};
constexpr TextSetting kTextSettings[] = {
    {"spill-dir", "SLUICE_SPILL_DIR", &EngineConfig::spill_dir},
    {"s3-endpoint", "SLUICE_S3_ENDPOINT", &EngineConfig::s3_endpoint},
    {"s3-region", "SLUICE_S3_REGION", &EngineConfig::s3_region},
    {"s3-scheme", "SLUICE_S3_SCHEME", &EngineConfig::s3_scheme},
    {"catalog", "SLUICE_CATALOG", &EngineConfig::catalog_path},
    {"log", "SLUICE_LOG", &EngineConfig::log},
};

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
                  .default_text = "$TMPDIR or /tmp"})
      .AddOption({.name = "s3-endpoint",
                  .value_name = "HOST:PORT",
                  .help = "S3-compatible server for s3:// paths, e.g. http://127.0.0.1:9000; env "
                          "SLUICE_S3_ENDPOINT.",
                  .default_text = "AWS"})
      .AddOption({.name = "s3-region",
                  .value_name = "REGION",
                  .help = "Region for s3:// paths; env SLUICE_S3_REGION.",
                  .default_text = "the AWS SDK's (us-east-1 with --s3-endpoint)"})
      .AddOption({.name = "s3-scheme",
                  .value_name = "http|https",
                  .help = "Transport for s3:// paths; env SLUICE_S3_SCHEME.",
                  .default_text = "https"})
      .AddOption({.name = "catalog",
                  .value_name = "FILE",
                  .help = "SQLite file of the table catalog; env SLUICE_CATALOG.",
                  .default_text = "~/.sluice/catalog.db"})
      .AddOption({.name = "log",
                  .value_name = "json:PATH",
                  .help = "Append every execution event (operators, progress, warnings) to PATH "
                          "as JSON lines; env SLUICE_LOG.",
                  .default_text = "none"});
}

arrow::Status ConfigureEngine(const ParsedArguments& args) {
  EngineConfig config;
  ARROW_ASSIGN_OR_RAISE(std::optional<int64_t> memory_limit, MemoryLimitBytes(args));
  ARROW_ASSIGN_OR_RAISE(std::optional<int> threads, ThreadCount(args));
  if (memory_limit) config.memory_limit_bytes = *memory_limit;
  if (threads) config.num_threads = *threads;
  for (const auto& setting : kTextSettings) {
    if (std::optional<SettingText> value = FindSetting(args, setting.option, setting.variable)) {
      config.*setting.field = value->text;
    }
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
  for (const auto& setting : kTextSettings) {
    if (std::optional<std::string> value = args.Value(setting.option)) {
      setenv(setting.variable, value->c_str(), /*overwrite=*/1);
    }
  }
  return arrow::Status::OK();
}

}  // namespace sluice::cli
