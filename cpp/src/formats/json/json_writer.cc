// The JSON lines writer (the format registry's, formats/file_formats.cc).

#include "formats/compressed_text_output.h"
#include "formats/format_writers.h"
#include "formats/json/json_lines_encoder.h"

namespace sluice::io {

namespace {

// JSON text is produced this many rows at a time, bounding the encoder's buffer.
constexpr int64_t kJsonRowsPerChunk = 16 * 1024;

class JsonLinesFormatWriter : public FormatWriter {
 public:
  JsonLinesFormatWriter(TextOutput output, std::unique_ptr<JsonLinesEncoder> encoder)
      : output_(std::move(output)), encoder_(std::move(encoder)) {}

  arrow::Status Write(const arrow::RecordBatch& batch) override {
    for (int64_t offset = 0; offset < batch.num_rows(); offset += kJsonRowsPerChunk) {
      text_.clear();
      ARROW_RETURN_NOT_OK(encoder_->Encode(*batch.Slice(offset, kJsonRowsPerChunk), &text_));
      ARROW_RETURN_NOT_OK(
          output_.stream()->Write(text_.data(), static_cast<int64_t>(text_.size())));
    }
    return arrow::Status::OK();
  }
  arrow::Status Close() override { return output_.Close(); }

 private:
  TextOutput output_;
  std::unique_ptr<JsonLinesEncoder> encoder_;
  std::string text_;  // reused across batches
};

}  // namespace

arrow::Result<FileWriterSpec> JsonWriterSpec(const WriteOptions& options, const EngineConfig&,
                                            arrow::MemoryPool* pool) {
  ARROW_ASSIGN_OR_RAISE(auto compression, ParseTextCompression(options.compression, "write_json"));
  return FileWriterSpec{
      "json", "json" + compression.suffix,
      [compression, pool](std::shared_ptr<arrow::io::OutputStream> sink,
                          const std::shared_ptr<arrow::Schema>& schema)
          -> arrow::Result<std::unique_ptr<FormatWriter>> {
        ARROW_ASSIGN_OR_RAISE(auto encoder, JsonLinesEncoder::Make(schema));
        ARROW_ASSIGN_OR_RAISE(auto output,
                              TextOutput::Open(std::move(sink), compression.codec, pool));
        return std::make_unique<JsonLinesFormatWriter>(std::move(output), std::move(encoder));
      }};
}

}  // namespace sluice::io
