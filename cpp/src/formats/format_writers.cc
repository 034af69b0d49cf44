#include "formats/format_writers.h"

#include <arrow/csv/writer.h>
#include <arrow/io/compressed.h>
#include <arrow/ipc/writer.h>
#include <arrow/util/compression.h>
#include <parquet/arrow/writer.h>
#include <parquet/properties.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>

#include "core/batch_stream.h"
#include "formats/json/json_lines_encoder.h"

namespace sluice::io {

namespace {

// Parquet row groups of about a million rows: large enough for efficient scans and
// statistics, small enough to bound the writer's buffered memory.
constexpr int64_t kParquetRowGroupRows = 1 << 20;
// JSON text is produced this many rows at a time, bounding the encoder's buffer.
constexpr int64_t kJsonRowsPerChunk = 16 * 1024;

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

arrow::Result<arrow::Compression::type> ParquetCompression(const std::string& option) {
  static const std::map<std::string, arrow::Compression::type> kCodecs = {
      {"snappy", arrow::Compression::SNAPPY},
      {"zstd", arrow::Compression::ZSTD},
      {"gzip", arrow::Compression::GZIP},
      {"lz4", arrow::Compression::LZ4},
      {"brotli", arrow::Compression::BROTLI},
      {"none", arrow::Compression::UNCOMPRESSED},
      {"uncompressed", arrow::Compression::UNCOMPRESSED}};
  const std::string name = option.empty() ? "snappy" : Lowercase(option);
  const auto found = kCodecs.find(name);
  if (found == kCodecs.end()) {
    return arrow::Status::Invalid("write_parquet: unknown compression '", option,
                                  "'; expected one of snappy, zstd, gzip, lz4, brotli, none");
  }
  ARROW_RETURN_NOT_OK(CheckCodecAvailable(found->second, name));
  return found->second;
}

/// Compression of a text file (CSV, JSON lines) and the suffix its name gets.
struct TextCompression {
  arrow::Compression::type codec = arrow::Compression::UNCOMPRESSED;
  std::string suffix;  // ".gz", ".zst", ".bz2" or empty
};

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

class ParquetFormatWriter : public FormatWriter {
 public:
  ParquetFormatWriter(std::unique_ptr<parquet::arrow::FileWriter> writer,
                      std::shared_ptr<arrow::io::OutputStream> sink, int64_t row_group_bytes)
      : writer_(std::move(writer)), sink_(std::move(sink)), row_group_bytes_(row_group_bytes) {}

  arrow::Status Write(const arrow::RecordBatch& batch) override {
    // The writer holds a whole row group in memory until it is flushed, and Parquet only
    // bounds row groups by rows; close them by size too so wide rows stay in budget.
    if (buffered_bytes_ > 0 && buffered_bytes_ + exec::BatchBufferBytes(batch) > row_group_bytes_) {
      ARROW_RETURN_NOT_OK(writer_->NewBufferedRowGroup());
      buffered_bytes_ = 0;
    }
    buffered_bytes_ += exec::BatchBufferBytes(batch);
    return writer_->WriteRecordBatch(batch);
  }
  arrow::Status WriteRowGroup(
      const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches) override {
    if (batches.empty()) return arrow::Status::OK();
    // WriteTable closes any open row group and writes the chunks column by column without
    // concatenating them first; row groups are still cut at the writer's row limit.
    ARROW_ASSIGN_OR_RAISE(auto table, arrow::Table::FromRecordBatches(batches));
    buffered_bytes_ = 0;
    return writer_->WriteTable(*table, std::max<int64_t>(1, table->num_rows()));
  }
  arrow::Status Close() override {
    ARROW_RETURN_NOT_OK(writer_->Close());
    return sink_->closed() ? arrow::Status::OK() : sink_->Close();
  }

 private:
  std::unique_ptr<parquet::arrow::FileWriter> writer_;
  std::shared_ptr<arrow::io::OutputStream> sink_;
  int64_t row_group_bytes_;
  int64_t buffered_bytes_ = 0;  // Arrow bytes written into the open row group
};

class CsvFormatWriter : public FormatWriter {
 public:
  CsvFormatWriter(TextOutput output, std::shared_ptr<arrow::ipc::RecordBatchWriter> writer)
      : output_(std::move(output)), writer_(std::move(writer)) {}

  arrow::Status Write(const arrow::RecordBatch& batch) override {
    return writer_->WriteRecordBatch(batch);
  }
  arrow::Status Close() override {
    ARROW_RETURN_NOT_OK(writer_->Close());
    return output_.Close();
  }

 private:
  TextOutput output_;
  std::shared_ptr<arrow::ipc::RecordBatchWriter> writer_;
};

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

arrow::Result<FileWriterSpec> ParquetWriterSpec(const WriteOptions& options,
                                               const EngineConfig& config, arrow::MemoryPool* pool) {
  ARROW_ASSIGN_OR_RAISE(auto codec, ParquetCompression(options.compression));
  auto properties = parquet::WriterProperties::Builder()
                        .compression(codec)
                        ->max_row_group_length(kParquetRowGroupRows)
                        ->memory_pool(pool)
                        ->build();
  // Store the Arrow schema so types Parquet lacks (time zones, large strings,
  // durations, dictionaries) read back as written.
  auto arrow_properties = parquet::ArrowWriterProperties::Builder().store_schema()->build();
  // Every worker may hold an open row group: give each an eighth of its share.
  const int64_t row_group_bytes = std::clamp<int64_t>(
      config.memory_limit_bytes / (8 * std::max(1, config.num_threads)), 1 << 20, 128 << 20);
  return FileWriterSpec{"parquet", "parquet",
                        [properties, arrow_properties, pool, row_group_bytes](
                            std::shared_ptr<arrow::io::OutputStream> sink,
                            const std::shared_ptr<arrow::Schema>& schema)
                            -> arrow::Result<std::unique_ptr<FormatWriter>> {
                          ARROW_ASSIGN_OR_RAISE(
                              auto writer, parquet::arrow::FileWriter::Open(
                                               *schema, pool, sink, properties, arrow_properties));
                          return std::make_unique<ParquetFormatWriter>(
                              std::move(writer), std::move(sink), row_group_bytes);
                        }};
}

arrow::Result<FileWriterSpec> CsvWriterSpec(const WriteOptions& options, const EngineConfig&,
                                           arrow::MemoryPool* pool) {
  ARROW_ASSIGN_OR_RAISE(auto compression, ParseTextCompression(options.compression, "write_csv"));
  auto csv_options = arrow::csv::WriteOptions::Defaults();
  csv_options.include_header = options.header;
  csv_options.delimiter = options.delimiter;
  csv_options.io_context = arrow::io::IOContext(pool);
  ARROW_RETURN_NOT_OK(csv_options.Validate());
  return FileWriterSpec{
      "csv", "csv" + compression.suffix,
      [csv_options, compression, pool](std::shared_ptr<arrow::io::OutputStream> sink,
                                       const std::shared_ptr<arrow::Schema>& schema)
          -> arrow::Result<std::unique_ptr<FormatWriter>> {
        ARROW_ASSIGN_OR_RAISE(auto output,
                              TextOutput::Open(std::move(sink), compression.codec, pool));
        ARROW_ASSIGN_OR_RAISE(auto writer,
                              arrow::csv::MakeCSVWriter(output.stream(), schema, csv_options));
        return std::make_unique<CsvFormatWriter>(std::move(output), std::move(writer));
      }};
}

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
