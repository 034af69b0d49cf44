#include "runtime/spill_file.h"

#include <arrow/io/buffered.h>
#include <arrow/io/file.h>
#include <arrow/ipc/reader.h>
#include <arrow/ipc/writer.h>
#include <arrow/util/compression.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <random>
#include <unistd.h>

namespace sluice::spill {

namespace fs = std::filesystem;

namespace {

constexpr char kDirectoryPrefix[] = "sluice-spill-";

/// Adds the spill file and a hint to an I/O error: a full disk is the usual cause, and
/// the fix is a spill_dir elsewhere.
arrow::Status SpillError(const std::string& path, const arrow::Status& status) {
  return status.WithMessage("spilling to '", path, "' failed: ", status.message(),
                            " (spill_dir in sl.configure, --spill-dir or SLUICE_SPILL_DIR "
                            "chooses where spill files go)");
}

/// Removes spill directories of processes that no longer run (killed before cleaning up).
void RemoveOrphanedDirectories(const std::string& parent) {
  std::error_code ec;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(kDirectoryPrefix, 0) != 0) continue;
    const std::string rest = name.substr(sizeof(kDirectoryPrefix) - 1);
    const pid_t pid = static_cast<pid_t>(std::strtol(rest.c_str(), nullptr, 10));
    if (pid <= 0 || pid == getpid()) continue;
    if (kill(pid, 0) != 0 && errno == ESRCH) {
      std::error_code ignored;
      fs::remove_all(it->path(), ignored);
    }
  }
}

}  // namespace

SpillDirectory::~SpillDirectory() {
  if (path_.empty()) return;
  std::error_code ignored;  // nothing sensible to do about a failure while unwinding
  fs::remove_all(path_, ignored);
}

arrow::Status SpillDirectory::CreateOnce() {
  if (!path_.empty()) return arrow::Status::OK();
  std::error_code ec;
  fs::create_directories(parent_, ec);
  if (ec) {
    return arrow::Status::IOError("cannot create spill directory '", parent_, "': ", ec.message(),
                                  " (set spill_dir in sl.configure, --spill-dir or "
                                  "SLUICE_SPILL_DIR)");
  }
  RemoveOrphanedDirectories(parent_);
  std::random_device random;
  char name[96];
  std::snprintf(name, sizeof(name), "%s%d-%08x", kDirectoryPrefix, static_cast<int>(getpid()),
                static_cast<unsigned>(random()));
  const fs::path path = fs::path(parent_) / name;
  if (!fs::create_directory(path, ec) || ec) {
    return arrow::Status::IOError("cannot create spill directory '", path.string(),
                                  "': ", ec ? ec.message() : std::string("it already exists"));
  }
  path_ = path.string();
  return arrow::Status::OK();
}

arrow::Result<std::string> SpillDirectory::NewFilePath(const std::string& stem) {
  std::lock_guard<std::mutex> lock(mutex_);
  ARROW_RETURN_NOT_OK(CreateOnce());
  return (fs::path(path_) / (stem + "-" + std::to_string(next_file_++) + ".arrows")).string();
}

arrow::Result<std::unique_ptr<SpillWriter>> SpillWriter::Open(SpillDirectory* directory,
                                                              const std::string& stem,
                                                              std::shared_ptr<arrow::Schema> schema,
                                                              arrow::MemoryPool* pool,
                                                              std::atomic<int64_t>* spilled_bytes) {
  std::unique_ptr<SpillWriter> writer(new SpillWriter());
  writer->directory_ = directory;
  writer->spilled_bytes_ = spilled_bytes;
  ARROW_ASSIGN_OR_RAISE(writer->file_.path, directory->NewFilePath(stem));
  writer->file_.schema = schema;
  const std::string& path = writer->file_.path;
  auto raw = arrow::io::FileOutputStream::Open(path);
  if (!raw.ok()) return SpillError(path, raw.status());
  auto buffered = arrow::io::BufferedOutputStream::Create(1 << 20, pool, *raw);
  if (!buffered.ok()) return SpillError(path, buffered.status());
  writer->sink_ = *buffered;
  auto options = arrow::ipc::IpcWriteOptions::Defaults();
  options.memory_pool = pool;
  // LZ4 compresses spilled rows two to four times at several hundred MB/s per core:
  // cheaper than the disk bandwidth it saves.
  ARROW_ASSIGN_OR_RAISE(options.codec, arrow::util::Codec::Create(arrow::Compression::LZ4_FRAME));
  auto ipc = arrow::ipc::MakeStreamWriter(writer->sink_, std::move(schema), options);
  if (!ipc.ok()) return SpillError(path, ipc.status());
  writer->writer_ = *ipc;
  return writer;
}

SpillWriter::~SpillWriter() {
  if (finished_) return;
  // Abandoned (an error elsewhere): close quietly; the directory removal deletes the file.
  if (writer_) ARROW_UNUSED(writer_->Close());
  if (sink_) ARROW_UNUSED(sink_->Close());
}

arrow::Status SpillWriter::Write(const arrow::RecordBatch& batch) {
  if (finished_) return arrow::Status::Invalid("spill file '", file_.path, "' is already closed");
  std::shared_ptr<arrow::RecordBatch> labelled;
  if (!batch.schema()->Equals(*file_.schema, /*check_metadata=*/false)) {
    auto shared = arrow::RecordBatch::Make(batch.schema(), batch.num_rows(), batch.columns());
    ARROW_ASSIGN_OR_RAISE(labelled, exec::BatchUnderSchema(shared, file_.schema));
  }
  arrow::Status st = writer_->WriteRecordBatch(labelled ? *labelled : batch);
  if (!st.ok()) return SpillError(file_.path, st);
  file_.rows += batch.num_rows();
  file_.batches += 1;
  file_.memory_bytes += exec::BatchBufferBytes(batch);
  auto position = sink_->Tell();
  if (!position.ok()) return SpillError(file_.path, position.status());
  const int64_t delta = *position - counted_bytes_;
  counted_bytes_ = *position;
  directory_->AddBytesWritten(delta);
  if (spilled_bytes_) spilled_bytes_->fetch_add(delta);
  return arrow::Status::OK();
}

arrow::Result<SpillFile> SpillWriter::Finish() {
  if (finished_) return arrow::Status::Invalid("spill file '", file_.path, "' is already closed");
  finished_ = true;
  arrow::Status st = writer_->Close();
  if (st.ok()) st = sink_->Close();
  if (!st.ok()) return SpillError(file_.path, st);
  std::error_code ec;
  file_.file_bytes = static_cast<int64_t>(fs::file_size(file_.path, ec));
  const int64_t delta = file_.file_bytes - counted_bytes_;
  if (!ec && delta > 0) {
    directory_->AddBytesWritten(delta);
    if (spilled_bytes_) spilled_bytes_->fetch_add(delta);
  }
  return file_;
}

namespace {

class SpillFileStream : public exec::BatchStream {
 public:
  SpillFileStream(std::string path, std::shared_ptr<arrow::ipc::RecordBatchStreamReader> reader,
                  bool remove_when_done)
      : path_(std::move(path)), reader_(std::move(reader)), remove_when_done_(remove_when_done) {}
  ~SpillFileStream() override { Done(); }

  arrow::Result<exec::BatchPtr> Next() override {
    if (!reader_) return nullptr;
    std::shared_ptr<arrow::RecordBatch> batch;
    arrow::Status st = reader_->ReadNext(&batch);
    if (!st.ok()) {
      return st.WithMessage("reading spill file '", path_, "' failed: ", st.message());
    }
    if (!batch) Done();
    return batch;
  }

 private:
  void Done() {
    if (!reader_) return;
    reader_.reset();
    if (remove_when_done_) {
      std::error_code ignored;
      fs::remove(path_, ignored);
    }
  }

  std::string path_;
  std::shared_ptr<arrow::ipc::RecordBatchStreamReader> reader_;
  bool remove_when_done_;
};

}  // namespace

arrow::Result<std::unique_ptr<exec::BatchStream>> ReadSpillFile(const SpillFile& file,
                                                                arrow::MemoryPool* pool,
                                                                bool remove_when_done) {
  auto input = arrow::io::ReadableFile::Open(file.path, pool);
  if (!input.ok()) {
    return input.status().WithMessage("reading spill file '", file.path,
                                      "' failed: ", input.status().message());
  }
  auto options = arrow::ipc::IpcReadOptions::Defaults();
  options.memory_pool = pool;
  // The pipeline's workers are the parallelism; decompressing on Arrow's pool would only
  // compete with them.
  options.use_threads = false;
  auto reader = arrow::ipc::RecordBatchStreamReader::Open(*input, options);
  if (!reader.ok()) {
    return reader.status().WithMessage("reading spill file '", file.path,
                                       "' failed: ", reader.status().message());
  }
  return std::make_unique<SpillFileStream>(file.path, std::move(*reader), remove_when_done);
}

arrow::Result<SpillFile> WriteSpillFile(SpillDirectory* directory, const std::string& stem,
                                        const std::shared_ptr<arrow::Schema>& schema,
                                        const std::vector<exec::BatchPtr>& batches,
                                        arrow::MemoryPool* pool,
                                        std::atomic<int64_t>* spilled_bytes) {
  ARROW_ASSIGN_OR_RAISE(auto writer,
                        SpillWriter::Open(directory, stem, schema, pool, spilled_bytes));
  for (const auto& batch : batches) ARROW_RETURN_NOT_OK(writer->Write(*batch));
  return writer->Finish();
}

}  // namespace sluice::spill
