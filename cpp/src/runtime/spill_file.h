#pragma once

#include <arrow/record_batch.h>
#include <arrow/result.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "core/batch_stream.h"

namespace arrow::ipc {
class RecordBatchWriter;
}
namespace arrow::io {
class OutputStream;
}

namespace sluice::spill {

/// The spill directory of one execution: a fresh subdirectory of the configured spill_dir,
/// made at the first spill and removed, with every file in it, when the execution ends
/// (success, error or cancellation alike). A process that was killed cannot clean up, so
/// making a new one also removes those left behind by processes that no longer exist.
class SpillDirectory {
 public:
  explicit SpillDirectory(std::string parent) : parent_(std::move(parent)) {}
  ~SpillDirectory();
  SpillDirectory(const SpillDirectory&) = delete;
  SpillDirectory& operator=(const SpillDirectory&) = delete;

  /// A path for a new file whose name starts with `stem` (unique within the execution).
  arrow::Result<std::string> NewFilePath(const std::string& stem);
  /// Compressed bytes written to spill files so far.
  int64_t bytes_written() const { return bytes_written_.load(); }
  void AddBytesWritten(int64_t bytes) { bytes_written_.fetch_add(bytes); }

 private:
  arrow::Status CreateOnce();

  std::string parent_;
  std::mutex mutex_;
  std::string path_;  // empty until the first spill
  int64_t next_file_ = 0;
  std::atomic<int64_t> bytes_written_{0};
};

/// A finished spill file: Arrow IPC stream format with LZ4-compressed buffers.
struct SpillFile {
  std::string path;
  std::shared_ptr<arrow::Schema> schema;
  int64_t rows = 0;
  int64_t batches = 0;
  /// Bytes on disk.
  int64_t file_bytes = 0;
  /// Bytes the batches held in memory before they were written.
  int64_t memory_bytes = 0;
};

/// Appends batches to one new spill file.
class SpillWriter {
 public:
  /// `spilled_bytes`, when given, counts the bytes written (an operator's counter).
  static arrow::Result<std::unique_ptr<SpillWriter>> Open(SpillDirectory* directory,
                                                          const std::string& stem,
                                                          std::shared_ptr<arrow::Schema> schema,
                                                          arrow::MemoryPool* pool,
                                                          std::atomic<int64_t>* spilled_bytes);
  ~SpillWriter();

  arrow::Status Write(const arrow::RecordBatch& batch);
  /// Closes the file; the writer is done afterwards.
  arrow::Result<SpillFile> Finish();
  int64_t rows() const { return file_.rows; }

 private:
  SpillWriter() = default;

  SpillDirectory* directory_ = nullptr;
  std::atomic<int64_t>* spilled_bytes_ = nullptr;
  std::shared_ptr<arrow::io::OutputStream> sink_;
  std::shared_ptr<arrow::ipc::RecordBatchWriter> writer_;
  SpillFile file_;
  int64_t counted_bytes_ = 0;
  bool finished_ = false;
};

/// Reads a spill file's batches back in the order they were written. With
/// `remove_when_done` the file is deleted once the last batch is read, so a multi-pass
/// operator's disk use does not add up across passes.
arrow::Result<std::unique_ptr<exec::BatchStream>> ReadSpillFile(const SpillFile& file,
                                                                arrow::MemoryPool* pool,
                                                                bool remove_when_done);

/// Writes `batches` to one new spill file.
arrow::Result<SpillFile> WriteSpillFile(SpillDirectory* directory, const std::string& stem,
                                        const std::shared_ptr<arrow::Schema>& schema,
                                        const std::vector<exec::BatchPtr>& batches,
                                        arrow::MemoryPool* pool,
                                        std::atomic<int64_t>* spilled_bytes);

}  // namespace sluice::spill
