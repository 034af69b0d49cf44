#include "storage/compression.h"

#include <arrow/buffer.h>
#include <arrow/io/compressed.h>
#include <arrow/util/compression.h>

#include <algorithm>
#include <cctype>
#include <string_view>

#include "storage/gzip_input_stream.h"

namespace sluice::io {

namespace {

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// A decompressing stream that owns its codec (arrow::io::CompressedInputStream only
/// borrows it) and rewrites errors so they name the file.
class DecompressingFileStream : public arrow::io::InputStream {
 public:
  DecompressingFileStream(std::string path, std::unique_ptr<arrow::util::Codec> codec,
                          std::shared_ptr<arrow::io::CompressedInputStream> decompressed)
      : path_(std::move(path)), codec_(std::move(codec)), decompressed_(std::move(decompressed)) {}

  ~DecompressingFileStream() override {
    // The compressed stream must let go of the codec before the codec is destroyed.
    decompressed_.reset();
  }

  arrow::Status Close() override { return Annotate(decompressed_->Close()); }
  arrow::Status Abort() override { return Annotate(decompressed_->Abort()); }
  bool closed() const override { return decompressed_->closed(); }
  arrow::Result<int64_t> Tell() const override { return Annotate(decompressed_->Tell()); }

  arrow::Result<int64_t> Read(int64_t nbytes, void* out) override {
    return Annotate(decompressed_->Read(nbytes, out));
  }
  arrow::Result<std::shared_ptr<arrow::Buffer>> Read(int64_t nbytes) override {
    return Annotate(decompressed_->Read(nbytes));
  }

 private:
  template <typename T>
  arrow::Result<T> Annotate(arrow::Result<T> result) const {
    if (result.ok()) return result;
    return Annotate(result.status());
  }

  arrow::Status Annotate(const arrow::Status& status) const {
    if (status.ok()) return status;
    // Arrow reports a stream that ends before the codec's end marker this way; say which
    // file and which codec, since "truncated" is the actionable part.
    if (status.message().find("Truncated compressed stream") != std::string::npos) {
      return arrow::Status::IOError(path_, ": truncated ", codec_->name(), " stream");
    }
    return status.WithMessage(path_, ": ", codec_->name(),
                              " decompression failed: ", status.message());
  }

  std::string path_;
  std::unique_ptr<arrow::util::Codec> codec_;
  std::shared_ptr<arrow::io::CompressedInputStream> decompressed_;
};

}  // namespace

arrow::Compression::type CompressionFromPath(const std::string& path) {
  std::string lower = path;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (EndsWith(lower, ".gz") || EndsWith(lower, ".gzip")) return arrow::Compression::GZIP;
  if (EndsWith(lower, ".zst") || EndsWith(lower, ".zstd")) return arrow::Compression::ZSTD;
  if (EndsWith(lower, ".bz2")) return arrow::Compression::BZ2;
  if (EndsWith(lower, ".lz4")) return arrow::Compression::LZ4_FRAME;
  return arrow::Compression::UNCOMPRESSED;
}

arrow::Result<std::shared_ptr<arrow::io::InputStream>> OpenDecompressedInputStream(
    const std::shared_ptr<arrow::fs::FileSystem>& filesystem, const arrow::fs::FileInfo& file,
    arrow::MemoryPool* pool) {
  ARROW_ASSIGN_OR_RAISE(std::shared_ptr<arrow::io::InputStream> raw,
                        filesystem->OpenInputStream(file));
  const arrow::Compression::type compression = CompressionFromPath(file.path());
  if (compression == arrow::Compression::UNCOMPRESSED) return raw;
  if (compression == arrow::Compression::GZIP) {
    return MakeGzipInputStream(file.path(), std::move(raw), pool);
  }

  auto codec = arrow::util::Codec::Create(compression);
  if (!codec.ok()) {
    return codec.status().WithMessage(file.path(),
                                      ": cannot decompress: ", codec.status().message());
  }
  ARROW_ASSIGN_OR_RAISE(auto decompressed,
                        arrow::io::CompressedInputStream::Make(codec->get(), raw, pool));
  return std::make_shared<DecompressingFileStream>(file.path(), std::move(*codec),
                                                   std::move(decompressed));
}

}  // namespace sluice::io
