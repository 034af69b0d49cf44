// The CSV writer (the format registry's, formats/file_formats.cc).

#include <arrow/csv/writer.h>
#include <arrow/ipc/writer.h>

#include "formats/compressed_text_output.h"
#include "formats/format_writers.h"

namespace sluice::io {

namespace {

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

}  // namespace

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

}  // namespace sluice::io
