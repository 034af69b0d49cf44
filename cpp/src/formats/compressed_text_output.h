#pragma once

// What the writers of the formats share: codec names checked against this build of Arrow,
// and the (optionally compressed) byte stream of the line formats (CSV, JSON lines).

#include <arrow/io/compressed.h>
#include <arrow/io/interfaces.h>
#include <arrow/memory_pool.h>
#include <arrow/result.h>
#include <arrow/util/compression.h>

#include <memory>
#include <string>

namespace sluice::io {

/// `text` in ASCII lower case (format and compression names are case-insensitive).
std::string Lowercase(std::string text);

/// NotImplemented naming `name` when this build of Arrow lacks `codec`.
arrow::Status CheckCodecAvailable(arrow::Compression::type codec, const std::string& name);

/// Compression of a text file (CSV, JSON lines) and the suffix its name gets.
struct TextCompression {
  arrow::Compression::type codec = arrow::Compression::UNCOMPRESSED;
  std::string suffix;  // ".gz", ".zst", ".bz2" or empty
};

/// The compression a text writer's `compression` option names ("none", "gzip", "zstd",
/// "bz2"); errors name `writer_name`.
arrow::Result<TextCompression> ParseTextCompression(const std::string& option,
                                                    const std::string& writer_name);

/// The stream a text file's bytes go to: the file's sink, or a compressor over it. The
/// codec must outlive the compressed stream, so both live here (codec declared first,
/// destroyed last).
class TextOutput {
 public:
  static arrow::Result<TextOutput> Open(std::shared_ptr<arrow::io::OutputStream> sink,
                                        arrow::Compression::type codec, arrow::MemoryPool* pool) {
    TextOutput output;
    if (codec == arrow::Compression::UNCOMPRESSED) {
      output.stream_ = std::move(sink);
      return output;
    }
    ARROW_ASSIGN_OR_RAISE(output.codec_, arrow::util::Codec::Create(codec));
    ARROW_ASSIGN_OR_RAISE(output.stream_,
                          arrow::io::CompressedOutputStream::Make(output.codec_.get(), sink, pool));
    return output;
  }

  const std::shared_ptr<arrow::io::OutputStream>& stream() const { return stream_; }

  /// Closes the compressor (writing its trailer) and the sink under it.
  arrow::Status Close() { return stream_->closed() ? arrow::Status::OK() : stream_->Close(); }

 private:
  std::unique_ptr<arrow::util::Codec> codec_;
  std::shared_ptr<arrow::io::OutputStream> stream_;
};

}  // namespace sluice::io
