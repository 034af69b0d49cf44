#include "storage/gzip_input_stream.h"

#include <arrow/buffer.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include <isa-l/igzip_lib.h>

namespace sluice::io {

namespace {

// Compressed bytes read from the file at a time.
constexpr int64_t kCompressedChunkBytes = 1 << 20;

const char* InflateErrorText(int code) {
  switch (code) {
    case ISAL_INVALID_BLOCK:
      return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
      return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
      return "invalid back-reference distance";
    case ISAL_INVALID_WRAPPER:
      return "not a gzip stream (bad header)";
    case ISAL_UNSUPPORTED_METHOD:
      return "unsupported compression method in the gzip header";
    case ISAL_INCORRECT_CHECKSUM:
      return "CRC mismatch: the data is corrupt";
    case ISAL_NEED_DICT:
      return "the stream needs a preset dictionary";
    default:
      return "unknown inflate error";
  }
}

class GzipInputStream : public arrow::io::InputStream {
 public:
  GzipInputStream(std::string path, std::shared_ptr<arrow::io::InputStream> compressed,
                  arrow::MemoryPool* pool)
      : path_(std::move(path)),
        compressed_(std::move(compressed)),
        pool_(pool),
        state_(std::make_unique<inflate_state>()) {
    StartMember();
  }

  arrow::Status Close() override {
    closed_ = true;
    return compressed_->Close();
  }
  arrow::Status Abort() override {
    closed_ = true;
    return compressed_->Abort();
  }
  bool closed() const override { return closed_; }
  arrow::Result<int64_t> Tell() const override { return position_; }

  arrow::Result<int64_t> Read(int64_t nbytes, void* out) override {
    if (closed_) return arrow::Status::Invalid(path_, ": read from a closed stream");
    auto* target = static_cast<uint8_t*>(out);
    int64_t produced = 0;
    while (produced < nbytes) {
      if (state_->avail_in == 0 && !input_ended_) ARROW_RETURN_NOT_OK(ReadCompressed());
      if (state_->block_state == ISAL_BLOCK_FINISH) {
        ARROW_ASSIGN_OR_RAISE(const bool another_member, AnotherMemberFollows());
        if (!another_member) break;  // the last member is complete
        StartMember();
      }
      if (state_->avail_in == 0 && input_ended_) {
        if (member_has_input_) {
          return arrow::Status::IOError(path_, ": truncated gzip stream");
        }
        break;  // an empty file
      }
      state_->next_out = target + produced;
      state_->avail_out = static_cast<uint32_t>(
          std::min<int64_t>(nbytes - produced, std::numeric_limits<uint32_t>::max()));
      const uint32_t before_in = state_->avail_in;
      if (!state_->wrapper_flag) {
        // The member header is parsed here rather than by isal_inflate, which keeps the
        // header's flags in a local variable: a header with a file name, extra field or
        // comment that arrives in two reads was misparsed ("invalid deflate block").
        const int code = isal_read_gzip_header(state_.get(), &header_);
        if (before_in != state_->avail_in) member_has_input_ = true;
        if (code == ISAL_END_INPUT) continue;  // the header goes on in the next read
        if (code != ISAL_DECOMP_OK) {
          return arrow::Status::IOError(path_, ": gzip decompression failed: ",
                                        InflateErrorText(code), " (near compressed byte ",
                                        consumed_ - state_->avail_in, ")");
        }
      }
      const int code = isal_inflate(state_.get());
      if (code < 0 || code == ISAL_NEED_DICT) {
        return arrow::Status::IOError(path_,
                                      ": gzip decompression failed: ", InflateErrorText(code),
                                      " (near compressed byte ", consumed_ - state_->avail_in, ")");
      }
      if (before_in != state_->avail_in) member_has_input_ = true;
      produced = state_->next_out - target;
    }
    position_ += produced;
    return produced;
  }

  arrow::Result<std::shared_ptr<arrow::Buffer>> Read(int64_t nbytes) override {
    ARROW_ASSIGN_OR_RAISE(auto buffer, arrow::AllocateResizableBuffer(nbytes, pool_));
    ARROW_ASSIGN_OR_RAISE(int64_t read, Read(nbytes, buffer->mutable_data()));
    ARROW_RETURN_NOT_OK(buffer->Resize(read, /*shrink_to_fit=*/false));
    return std::shared_ptr<arrow::Buffer>(std::move(buffer));
  }

 private:
  void StartMember() {
    // Keep the unconsumed input of the previous member: the next one starts there.
    uint8_t* next_in = state_->next_in;
    const uint32_t avail_in = state_->avail_in;
    isal_inflate_init(state_.get());
    isal_gzip_header_init(&header_);
    state_->crc_flag = ISAL_GZIP;
    state_->next_in = next_in;
    state_->avail_in = avail_in;
    member_has_input_ = avail_in > 0;
  }

  /// After a complete member: whether another one follows. Zero bytes after the last
  /// member are padding (tape blocks, preallocated files), which gzip and Python accept;
  /// anything else that does not start with the gzip magic is an error.
  arrow::Result<bool> AnotherMemberFollows() {
    static constexpr uint8_t kMagic[] = {0x1f, 0x8b};
    while (true) {
      while (state_->avail_in > 0 && *state_->next_in == 0) {
        ++state_->next_in;
        --state_->avail_in;
      }
      if (state_->avail_in >= 2 || (state_->avail_in == 1 && input_ended_)) break;
      if (input_ended_) return false;  // nothing or only padding after the last member
      // Too little left to see the magic: keep it and append the next chunk to it.
      ARROW_RETURN_NOT_OK(ReadCompressed());
    }
    const int64_t at = consumed_ - state_->avail_in;
    const bool magic = state_->next_in[0] == kMagic[0] &&
                       (state_->avail_in < 2 || state_->next_in[1] == kMagic[1]);
    if (!magic) {
      return arrow::Status::IOError(
          path_, ": trailing garbage after gzip data (at compressed byte ", at, ")");
    }
    return true;  // a lone 0x1f at the end reads as a truncated member
  }

  /// Reads the next chunk of compressed bytes, after any still unconsumed.
  arrow::Status ReadCompressed() {
    auto chunk = compressed_->Read(kCompressedChunkBytes);
    if (!chunk.ok()) return chunk.status().WithMessage(path_, ": ", chunk.status().message());
    if ((*chunk)->size() == 0) {
      input_ended_ = true;
      return arrow::Status::OK();
    }
    consumed_ += (*chunk)->size();
    if (state_->avail_in > 0) {
      auto unconsumed =
          arrow::SliceBuffer(chunk_, state_->next_in - chunk_->data(), state_->avail_in);
      ARROW_ASSIGN_OR_RAISE(*chunk, arrow::ConcatenateBuffers({unconsumed, *chunk}, pool_));
    }
    chunk_ = std::move(*chunk);
    state_->next_in = const_cast<uint8_t*>(chunk_->data());
    state_->avail_in = static_cast<uint32_t>(chunk_->size());
    return arrow::Status::OK();
  }

  std::string path_;
  std::shared_ptr<arrow::io::InputStream> compressed_;
  arrow::MemoryPool* pool_;
  // Large (about 100 KB of tables and history), so it lives on the heap.
  std::unique_ptr<inflate_state> state_;
  // The member header parsed so far (no buffers: the name, extra field and comment are
  // skipped); it carries the header's flags from one read to the next.
  isal_gzip_header header_;
  std::shared_ptr<arrow::Buffer> chunk_;  // the compressed bytes next_in points into
  int64_t consumed_ = 0;                  // compressed bytes read from the file so far
  int64_t position_ = 0;                  // decompressed bytes returned so far
  bool input_ended_ = false;
  bool member_has_input_ = false;
  bool closed_ = false;
};

}  // namespace

std::shared_ptr<arrow::io::InputStream> MakeGzipInputStream(
    std::string path, std::shared_ptr<arrow::io::InputStream> compressed, arrow::MemoryPool* pool) {
  return std::make_shared<GzipInputStream>(std::move(path), std::move(compressed), pool);
}

}  // namespace sluice::io
