#include "cli/input_dataset.h"

#include <set>
#include <variant>

#include "sluice/formats.h"

namespace sluice::cli {

namespace {

std::string JoinPaths(const std::vector<std::string>& paths) {
  std::string joined;
  for (const auto& path : paths) joined += (joined.empty() ? "" : ", ") + path;
  return joined;
}

std::string_view BaseName(std::string_view path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

/// The one format every recognised file name in the listing agrees on.
arrow::Result<std::string> DetectFormat(const std::vector<ListedDataFile>& listing,
                                        const std::vector<std::string>& user_paths) {
  std::set<std::string> formats;
  for (const auto& file : listing) {
    if (auto format = FileFormatFromFileName(BaseName(file.path))) formats.insert(*format);
  }
  if (formats.size() == 1) return *formats.begin();
  if (formats.empty()) {
    return arrow::Status::Invalid("cannot tell the format of ", JoinPaths(user_paths),
                                  " from its file names (known: ", KnownFileExtensions(),
                                  ", optionally with .gz/.zst/.bz2); pass --format");
  }
  std::string names;
  for (const std::string& format : formats) names += (names.empty() ? "" : ", ") + format;
  return arrow::Status::Invalid(JoinPaths(user_paths), " holds files of several formats (", names,
                                "); pass --format to pick one");
}

bool AllTabSeparated(const std::vector<ListedDataFile>& listing) {
  for (const auto& file : listing) {
    if (!IsTabSeparatedFileName(BaseName(file.path))) return false;
  }
  return true;
}

}  // namespace

void AddInputOptions(ArgumentParser& parser, const std::string& format_option) {
  parser
      .AddOption({.name = format_option,
                  .value_name = "FORMAT",
                  .help = "Input format: parquet, csv, json or text.",
                  .default_text = "from the file extensions"})
      .AddOption({.name = "delimiter",
                  .value_name = "CHAR",
                  .help = "Field delimiter of CSV input; '\\t' or 'tab' for a tab.",
                  .default_text = "tab for .tsv files, else ','"})
      .AddOption({.name = "follow-symlinks",
                  .help = "Follow symbolic links that lead out of the directories read "
                          "(without it such a link is an error; links inside are followed)."})
      .AddOption({.name = "on-bad-lines",
                  .value_name = "ACTION",
                  .help = "CSV and JSON records that cannot be read: error (name the file "
                          "and line) or skip.",
                  .default_text = "error"})
      .AddOption({.name = "encoding-errors",
                  .value_name = "ACTION",
                  .help = "Input that is not UTF-8: strict (a bad record) or replace (U+FFFD).",
                  .default_text = "strict"});
}

arrow::Result<InputRequest> InputRequestFromArguments(std::vector<std::string> paths,
                                                      const ParsedArguments& args,
                                                      const std::string& format_option) {
  InputRequest request;
  request.paths = std::move(paths);
  if (auto format = args.Value(format_option)) {
    ARROW_ASSIGN_OR_RAISE(request.format, ParseFormatOption(*format, "--" + format_option));
  }
  if (auto delimiter = args.Value("delimiter")) {
    ARROW_ASSIGN_OR_RAISE(request.delimiter, ParseDelimiter(*delimiter));
  }
  request.follow_symlinks = args.Has("follow-symlinks");
  if (auto action = args.Value("on-bad-lines")) {
    auto parsed = ParseBadLineAction(*action);
    // The command line has nowhere to hand collected records to.
    if (!parsed.ok() || *parsed == BadLineAction::kCollect) {
      return UsageError("--on-bad-lines takes error or skip, not '" + *action + "'");
    }
    request.on_bad_lines = *parsed;
  }
  if (auto action = args.Value("encoding-errors")) {
    auto parsed = ParseEncodingErrors(*action);
    if (!parsed.ok()) return UsageError("--encoding-errors " + parsed.status().message());
    request.encoding_errors = *parsed;
  }
  return request;
}

arrow::Result<InputDataset> OpenInputDataset(const InputRequest& request) {
  ARROW_ASSIGN_OR_RAISE(std::vector<ListedDataFile> listing,
                        ListDataFiles(request.paths, request.follow_symlinks));
  std::string format;
  if (request.format) {
    format = *request.format;
  } else {
    ARROW_ASSIGN_OR_RAISE(format, DetectFormat(listing, request.paths));
  }
  ARROW_ASSIGN_OR_RAISE(ReadOptions options, DefaultReadOptions(format));
  // The request's settings, to the formats that have them.
  std::visit(
      [&](auto& format_options) {
        format_options.follow_symlinks = request.follow_symlinks;
        if constexpr (requires { format_options.delimiter; }) {
          format_options.delimiter =
              request.delimiter.value_or(AllTabSeparated(listing) ? '\t' : ',');
        }
        if constexpr (requires { format_options.on_bad_lines; }) {
          format_options.on_bad_lines = request.on_bad_lines;
        }
        if constexpr (requires { format_options.encoding_errors; }) {
          format_options.encoding_errors = request.encoding_errors;
        }
      },
      options);
  arrow::Result<Dataset> dataset = Dataset::Read(format, request.paths, options);
  ARROW_RETURN_NOT_OK(dataset.status());
  return InputDataset{std::move(dataset).ValueUnsafe(), format, std::move(listing)};
}

}  // namespace sluice::cli
