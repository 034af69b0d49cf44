// The Parquet writer (the format registry's, formats/file_formats.cc).

#include <arrow/util/compression.h>
#include <parquet/arrow/writer.h>
#include <parquet/properties.h>

#include <map>

#include "core/batch_stream.h"
#include "formats/compressed_text_output.h"
#include "formats/format_writers.h"

namespace sluice::io {

namespace {

// Parquet row groups of about a million rows: large enough for efficient scans and
// statistics, small enough to bound the writer's buffered memory.
constexpr int64_t kParquetRowGroupRows = 1 << 20;

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

}  // namespace sluice::io
