#pragma once

// A look at every record of a CSV or JSON lines file before Arrow's parser sees it:
// checks Arrow does not make (UTF-8 with the line at fault, JSON nesting depth), repairs
// the user asked for (U+FFFD for invalid UTF-8), and bad records taken out. The screen
// sees whole records only, so each check knows the physical line it is on.

#include <arrow/buffer.h>
#include <arrow/io/interfaces.h>
#include <arrow/memory_pool.h>
#include <arrow/result.h>

#include <cstdint>
#include <memory>
#include <string_view>

namespace sluice::io {

/// Counts physical lines as editors do: "\n", "\r\n" and a lone "\r" each end one.
int64_t CountLineBreaks(std::string_view text);

/// The length of the line break at `text[i]` (1 or 2 for "\r\n"), or 0 if none starts there.
inline int LineBreakLength(std::string_view text, size_t i) {
  if (text[i] == '\n') return 1;
  if (text[i] != '\r') return 0;
  return i + 1 < text.size() && text[i + 1] == '\n' ? 2 : 1;
}

/// Judges the records of one file, front to back.
class RecordScreen {
 public:
  virtual ~RecordScreen() = default;

  struct Screened {
    /// Bytes of whole records taken from the front of the data.
    int64_t consumed = 0;
    /// What the parser gets for them; null: those bytes unchanged.
    std::shared_ptr<arrow::Buffer> replacement;
  };
  /// Takes the whole records at the front of `data` (everything when `final`: the file
  /// ends there). Called again with the rest and more data appended, so it keeps state
  /// (the line count) only for what it consumed.
  virtual arrow::Result<Screened> Screen(std::string_view data, bool final) = 0;

  /// The physical line (1-based) the first record not yet consumed starts on.
  virtual int64_t next_line() const = 0;
};

/// `input` as `screen` passes it. A record longer than `max_record_bytes` fails with an
/// error naming its line and the option that raises the limit (block_size).
class ScreenedInputStream : public arrow::io::InputStream {
 public:
  ScreenedInputStream(std::shared_ptr<arrow::io::InputStream> input,
                      std::unique_ptr<RecordScreen> screen, int64_t max_record_bytes,
                      arrow::MemoryPool* pool);

  arrow::Status Close() override;
  arrow::Status Abort() override;
  bool closed() const override { return closed_; }
  arrow::Result<int64_t> Tell() const override { return position_; }
  arrow::Result<int64_t> Read(int64_t nbytes, void* out) override;
  arrow::Result<std::shared_ptr<arrow::Buffer>> Read(int64_t nbytes) override;

  /// The next screened bytes, whole records only (at least `nbytes` of input is read for
  /// them, unless the file ends); empty at the end. Not to be mixed with Read.
  arrow::Result<std::shared_ptr<arrow::Buffer>> ReadRecords(int64_t nbytes);

 private:
  arrow::Status Fill(int64_t nbytes);

  std::shared_ptr<arrow::io::InputStream> input_;
  std::unique_ptr<RecordScreen> screen_;
  const int64_t max_record_bytes_;
  arrow::MemoryPool* pool_;
  /// Screened bytes not yet returned.
  std::shared_ptr<arrow::Buffer> ready_;
  int64_t ready_offset_ = 0;
  /// The start of a record whose end was not read yet.
  std::shared_ptr<arrow::Buffer> tail_;
  /// How much the next fill reads before growing (see kFirstReadRoomBytes).
  int64_t read_room_;
  bool finished_ = false;
  bool closed_ = false;
  int64_t position_ = 0;
};

std::shared_ptr<ScreenedInputStream> MakeScreenedInputStream(
    std::shared_ptr<arrow::io::InputStream> input, std::unique_ptr<RecordScreen> screen,
    int64_t max_record_bytes, arrow::MemoryPool* pool);

}  // namespace sluice::io
