#include "formats/compressed_text_output.h"


#include <algorithm>
#include <cctype>

namespace sluice::io {

std::string Lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

arrow::Status CheckCodecAvailable(arrow::Compression::type codec, const std::string& name) {
  if (codec != arrow::Compression::UNCOMPRESSED && !arrow::util::Codec::IsAvailable(codec)) {
    return arrow::Status::NotImplemented("compression '", name,
                                         "' is not available in this build of Arrow");
  }
  return arrow::Status::OK();
}

arrow::Result<TextCompression> ParseTextCompression(const std::string& option,
                                                    const std::string& writer_name) {
  const std::string name = option.empty() ? "none" : Lowercase(option);
  TextCompression compression;
  if (name == "none" || name == "uncompressed") {
    return compression;
  } else if (name == "gzip") {
    compression = {arrow::Compression::GZIP, ".gz"};
  } else if (name == "zstd") {
    compression = {arrow::Compression::ZSTD, ".zst"};
  } else if (name == "bz2") {
    compression = {arrow::Compression::BZ2, ".bz2"};
  } else {
    return arrow::Status::Invalid(writer_name, ": unknown compression '", option,
                                  "'; expected one of none, gzip, zstd, bz2");
  }
  ARROW_RETURN_NOT_OK(CheckCodecAvailable(compression.codec, name));
  return compression;
}

}  // namespace sluice::io
