#include "storage/screened_input_stream.h"

#include <algorithm>
#include <cstring>

namespace sluice::io {

int64_t CountLineBreaks(std::string_view text) {
  int64_t breaks = std::count(text.begin(), text.end(), '\n');
  if (text.find('\r') == std::string_view::npos) return breaks;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n')) ++breaks;
  }
  return breaks;
}

namespace {

/// Reads at least this much from the underlying stream at a time (more when the caller
/// asks for more or a long record is carried over).
constexpr int64_t kMinReadBytes = 1 << 20;

/// A file's first read gets this much room; the room doubles while reads fill it. A small
/// file (most files of a partitioned dataset, every fuzzer input) then costs a small
/// buffer instead of a megabyte that is allocated, poisoned and freed for a few bytes.
constexpr int64_t kFirstReadRoomBytes = 64 << 10;

}  // namespace

ScreenedInputStream::ScreenedInputStream(std::shared_ptr<arrow::io::InputStream> input,
                                         std::unique_ptr<RecordScreen> screen,
                                         int64_t max_record_bytes, arrow::MemoryPool* pool)
    : input_(std::move(input)),
      screen_(std::move(screen)),
      max_record_bytes_(max_record_bytes),
      pool_(pool),
      read_room_(kFirstReadRoomBytes) {}

arrow::Status ScreenedInputStream::Close() {
  closed_ = true;
  return input_->Close();
}

arrow::Status ScreenedInputStream::Abort() {
  closed_ = true;
  return input_->Abort();
}

arrow::Result<int64_t> ScreenedInputStream::Read(int64_t nbytes, void* out) {
  ARROW_ASSIGN_OR_RAISE(auto buffer, Read(nbytes));
  if (buffer->size() > 0) std::memcpy(out, buffer->data(), buffer->size());
  return buffer->size();
}

arrow::Result<std::shared_ptr<arrow::Buffer>> ScreenedInputStream::Read(int64_t nbytes) {
  while (ready_offset_ == (ready_ ? ready_->size() : 0) && !finished_) {
    ARROW_RETURN_NOT_OK(Fill(nbytes));
  }
  if (!ready_) return std::make_shared<arrow::Buffer>(nullptr, 0);
  const int64_t length = std::min(nbytes, ready_->size() - ready_offset_);
  auto slice = arrow::SliceBuffer(ready_, ready_offset_, length);
  ready_offset_ += length;
  position_ += length;
  return slice;
}

arrow::Result<std::shared_ptr<arrow::Buffer>> ScreenedInputStream::ReadRecords(int64_t nbytes) {
  while (ready_offset_ == (ready_ ? ready_->size() : 0) && !finished_) {
    ARROW_RETURN_NOT_OK(Fill(nbytes));
  }
  if (!ready_) return std::make_shared<arrow::Buffer>(nullptr, 0);
  auto rest = arrow::SliceBuffer(ready_, ready_offset_);
  ready_offset_ = ready_->size();
  position_ += rest->size();
  return rest;
}

arrow::Status ScreenedInputStream::Fill(int64_t nbytes) {
  const int64_t tail_length = tail_ ? tail_->size() : 0;
  // At least as much as is carried over, so a long record costs linear time in all.
  const int64_t want = std::max({nbytes, kMinReadBytes, tail_length});
  int64_t room = std::min(want, read_room_);
  ARROW_ASSIGN_OR_RAISE(auto buffer, arrow::AllocateResizableBuffer(tail_length + room, pool_));
  if (tail_length > 0) std::memcpy(buffer->mutable_data(), tail_->data(), tail_length);
  int64_t read = 0;
  bool at_end = false;
  while (true) {
    const int64_t ask = room - read;
    ARROW_ASSIGN_OR_RAISE(int64_t got,
                          input_->Read(ask, buffer->mutable_data() + tail_length + read));
    read += got;
    if (got == 0) {
      at_end = true;
      break;
    }
    // A stream may read short before its end (a decompressor, a socket): go on until
    // the room is full, or a file read one byte at a time costs a fill per byte.
    if (read < room) continue;
    if (room == want) break;
    // Full: more is likely there, so grow the room, up to `want`.
    room = std::min(want, 2 * room);
    ARROW_RETURN_NOT_OK(buffer->Resize(tail_length + room, /*shrink_to_fit=*/false));
  }
  read_room_ = room;
  const int64_t size = tail_length + read;
  ARROW_RETURN_NOT_OK(buffer->Resize(size, /*shrink_to_fit=*/false));
  std::shared_ptr<arrow::Buffer> data = std::move(buffer);
  const bool final = at_end;

  ARROW_ASSIGN_OR_RAISE(
      auto screened,
      screen_->Screen(std::string_view(reinterpret_cast<const char*>(data->data()), size), final));
  if (!final && size - screened.consumed > max_record_bytes_) {
    return arrow::Status::Invalid("line ", screen_->next_line(),
                                        ": a record is longer than the block size (",
                                        max_record_bytes_, " bytes); raise block_size");
  }
  ready_ = screened.replacement ? screened.replacement
                                : arrow::SliceBuffer(data, 0, screened.consumed);
  ready_offset_ = 0;
  tail_ = screened.consumed < size ? arrow::SliceBuffer(data, screened.consumed) : nullptr;
  finished_ = final;
  return arrow::Status::OK();
}

std::shared_ptr<ScreenedInputStream> MakeScreenedInputStream(
    std::shared_ptr<arrow::io::InputStream> input, std::unique_ptr<RecordScreen> screen,
    int64_t max_record_bytes, arrow::MemoryPool* pool) {
  return std::make_shared<ScreenedInputStream>(std::move(input), std::move(screen),
                                               max_record_bytes, pool);
}

}  // namespace sluice::io
