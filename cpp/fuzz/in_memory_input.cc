#include "in_memory_input.h"

#include <arrow/filesystem/mockfs.h>
#include <arrow/io/interfaces.h>
#include <arrow/util/uri.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "storage/read_buffering.h"

namespace sluice::fuzz {

namespace {

class ShortReadStream : public arrow::io::InputStream {
 public:
  ShortReadStream(std::shared_ptr<arrow::io::InputStream> input, int64_t max_read_bytes)
      : input_(std::move(input)), max_read_bytes_(max_read_bytes) {}

  arrow::Status Close() override { return input_->Close(); }
  bool closed() const override { return input_->closed(); }
  arrow::Result<int64_t> Tell() const override { return input_->Tell(); }
  arrow::Result<int64_t> Read(int64_t nbytes, void* out) override {
    return input_->Read(std::min(nbytes, max_read_bytes_), out);
  }
  arrow::Result<std::shared_ptr<arrow::Buffer>> Read(int64_t nbytes) override {
    return input_->Read(std::min(nbytes, max_read_bytes_));
  }

 private:
  std::shared_ptr<arrow::io::InputStream> input_;
  int64_t max_read_bytes_;
};

/// Arrow's mock filesystem, whose streams read short.
class InputFiles : public arrow::fs::internal::MockFileSystem {
 public:
  explicit InputFiles(int64_t max_read_bytes)
      : MockFileSystem(arrow::fs::TimePoint(), io::BudgetedIOContext()),
        max_read_bytes_(max_read_bytes) {}

  using MockFileSystem::OpenInputStream;
  arrow::Result<std::shared_ptr<arrow::io::InputStream>> OpenInputStream(
      const std::string& path) override {
    ARROW_ASSIGN_OR_RAISE(auto input, MockFileSystem::OpenInputStream(path));
    if (max_read_bytes_ <= 0) return input;
    return WithShortReads(std::move(input), max_read_bytes_);
  }

 private:
  int64_t max_read_bytes_;
};

constexpr char kScheme[] = "fuzzmem";

std::shared_ptr<arrow::fs::FileSystem>& CurrentFileSystem() {
  static auto* filesystem = new std::shared_ptr<arrow::fs::FileSystem>();
  return *filesystem;
}

void RegisterScheme() {
  auto factory = [](const arrow::util::Uri& uri, const arrow::io::IOContext&,
                    std::string* out_path) -> arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> {
    if (out_path) {
      std::string path = uri.path();
      while (!path.empty() && path.front() == '/') path.erase(0, 1);
      *out_path = std::move(path);
    }
    return CurrentFileSystem();
  };
  arrow::Status registered = arrow::fs::RegisterFileSystemFactory(
      kScheme, arrow::fs::FileSystemFactory(factory, __FILE__, __LINE__));
  if (!registered.ok()) {
    std::fprintf(stderr, "cannot register %s://: %s\n", kScheme, registered.ToString().c_str());
    std::abort();
  }
}

}  // namespace

std::shared_ptr<arrow::io::InputStream> WithShortReads(std::shared_ptr<arrow::io::InputStream> input,
                                                       int64_t max_read_bytes) {
  return std::make_shared<ShortReadStream>(std::move(input), std::max<int64_t>(1, max_read_bytes));
}

std::string PutInputFile(std::string_view bytes, const std::string& name, int64_t max_read_bytes) {
  static std::once_flag registered;
  std::call_once(registered, RegisterScheme);
  auto files = std::make_shared<InputFiles>(max_read_bytes);
  arrow::Status created = files->CreateFile(name, bytes);
  if (!created.ok()) {
    std::fprintf(stderr, "cannot create the input file: %s\n", created.ToString().c_str());
    std::abort();
  }
  CurrentFileSystem() = std::move(files);
  return std::string(kScheme) + ":///" + name;
}

std::shared_ptr<arrow::fs::FileSystem> InputFileSystem() { return CurrentFileSystem(); }

}  // namespace sluice::fuzz
