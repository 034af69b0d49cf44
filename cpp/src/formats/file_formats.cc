#include "formats/file_formats.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "formats/compressed_text_output.h"
#include "formats/file_sources.h"
#include "sluice/formats.h"

namespace sluice::formats {

namespace {

struct CompressionSuffix {
  std::string_view suffix;
  std::string_view codec;
};
constexpr std::array<CompressionSuffix, 4> kCompressionSuffixes = {
    {{".gz", "gzip"}, {".zst", "zstd"}, {".bz2", "bz2"}, {".lz4", "lz4"}}};


bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

/// The compression suffix `lower` (a lowercased name) ends with, or null.
const CompressionSuffix* FindCompressionSuffix(std::string_view lower) {
  for (const auto& compression : kCompressionSuffixes) {
    if (EndsWith(lower, compression.suffix)) return &compression;
  }
  return nullptr;
}

/// The lowercased file name without a compression suffix.
std::string NameWithoutCompression(std::string_view name) {
  std::string lower = io::Lowercase(std::string(name));
  if (const CompressionSuffix* compression = FindCompressionSuffix(lower)) {
    lower.resize(lower.size() - compression->suffix.size());
  }
  return lower;
}

/// A reader entry for a format whose options are `Options` and whose source `make` makes.
template <typename Options, typename Make>
auto Reader(std::string format, Make make) {
  return [format = std::move(format), make](const std::vector<std::string>& paths,
                                            const FormatReadOptions& options,
                                            std::shared_ptr<exec::SessionState> session)
             -> arrow::Result<std::shared_ptr<const plan::SourceSpec>> {
    const Options* own = std::get_if<Options>(&options);
    if (own == nullptr) {
      return arrow::Status::Invalid("the ", format, " reader was given another format's options");
    }
    return make(paths, *own, std::move(session));
  };
}

std::vector<FileFormat> MakeFileFormats() {
  std::vector<FileFormat> formats;
  formats.push_back({"parquet", {"pq"}, {"parquet", "pq"}, ReadParquetOptions{},
                     Reader<ReadParquetOptions>("parquet", io::MakeParquetSource),
                     io::ParquetWriterSpec});
  formats.push_back({"csv", {"tsv"}, {"csv", "tsv"}, ReadCsvOptions{},
                     Reader<ReadCsvOptions>("csv", io::MakeCsvSource), io::CsvWriterSpec});
  formats.push_back({"json", {"jsonl", "ndjson"}, {"json", "jsonl", "ndjson"}, ReadJsonOptions{},
                     Reader<ReadJsonOptions>("json", io::MakeJsonSource), io::JsonWriterSpec});
  formats.push_back({"text", {"txt"}, {"txt"}, ReadTextOptions{},
                     Reader<ReadTextOptions>("text", io::MakeTextSource), nullptr});
  return formats;
}

}  // namespace

const std::vector<FileFormat>& FileFormats() {
  static const std::vector<FileFormat> formats = MakeFileFormats();
  return formats;
}

std::string FileFormatNames(bool for_writing) {
  std::vector<std::string> names;
  for (const auto& format : FileFormats()) {
    if (!for_writing || format.make_writer) names.push_back(format.name);
  }
  std::string text;
  for (size_t i = 0; i < names.size(); ++i) {
    text += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  }
  return text;
}

arrow::Result<const FileFormat*> FindFileFormat(std::string_view name, bool for_writing) {
  const std::string lower = io::Lowercase(std::string(name));
  for (const auto& format : FileFormats()) {
    const bool named = format.name == lower || std::find(format.aliases.begin(),
                                                         format.aliases.end(),
                                                         lower) != format.aliases.end();
    if (!named) continue;
    if (for_writing && !format.make_writer) {
      return arrow::Status::NotImplemented("Sluice reads ", format.name,
                                           " files but does not write them; write ",
                                           FileFormatNames(true));
    }
    return &format;
  }
  return arrow::Status::Invalid("unknown format '", name, "'; expected ",
                                FileFormatNames(for_writing));
}

const FileFormat* FileFormatFromFileName(std::string_view name) {
  const std::string bare = NameWithoutCompression(name);
  for (const auto& format : FileFormats()) {
    for (const auto& extension : format.extensions) {
      if (EndsWith(bare, "." + extension)) return &format;
    }
  }
  return nullptr;
}

std::optional<std::string> CompressionFromFileName(std::string_view name) {
  const CompressionSuffix* compression = FindCompressionSuffix(io::Lowercase(std::string(name)));
  if (compression == nullptr) return std::nullopt;
  return std::string(compression->codec);
}

}  // namespace sluice::formats

namespace sluice {

arrow::Result<std::string> ResolveFileFormat(std::string_view name, bool for_writing) {
  ARROW_ASSIGN_OR_RAISE(const formats::FileFormat* format,
                        formats::FindFileFormat(name, for_writing));
  return format->name;
}

std::optional<std::string> FileFormatFromFileName(std::string_view name) {
  const formats::FileFormat* format = formats::FileFormatFromFileName(name);
  if (format == nullptr) return std::nullopt;
  return format->name;
}

std::optional<std::string> CompressionFromFileName(std::string_view name) {
  return formats::CompressionFromFileName(name);
}

bool IsTabSeparatedFileName(std::string_view name) {
  return formats::EndsWith(formats::NameWithoutCompression(name), ".tsv");
}

arrow::Result<ReadOptions> DefaultReadOptions(std::string_view format) {
  ARROW_ASSIGN_OR_RAISE(const formats::FileFormat* found, formats::FindFileFormat(format));
  return found->default_read_options;
}

std::string KnownFileExtensions() {
  std::string text;
  for (const auto& format : formats::FileFormats()) {
    for (const auto& extension : format.extensions) {
      text += (text.empty() ? "." : ", .") + extension;
    }
  }
  return text;
}

}  // namespace sluice
