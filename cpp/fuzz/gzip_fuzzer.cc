// The gzip stream (storage/gzip_input_stream.cc) read to its end twice: once with the reads
// the options byte picks (output 3 bytes at a time or more; compressed bytes arriving 1,
// 17 or 4096 at a time, or all at once), once with one large read of everything. Both
// must succeed with the same bytes or both fail: a result that depends on how the stream
// is read is a finding. Input: the compressed bytes, then one options byte.

#include <fuzzer/FuzzedDataProvider.h>

#include <arrow/io/memory.h>

#include "runtime/memory_budget.h"
#include "in_memory_input.h"
#include "storage/gzip_input_stream.h"
#include "read_to_end.h"

namespace {

/// All the decompressed bytes, reading at most `read_bytes` at a time, from compressed
/// input that arrives at most `compressed_read_bytes` at a time (0: all at once).
arrow::Result<std::string> Decompress(const std::shared_ptr<arrow::Buffer>& compressed,
                                      int64_t read_bytes, int64_t compressed_read_bytes) {
  std::shared_ptr<arrow::io::InputStream> input =
      std::make_shared<arrow::io::BufferReader>(compressed);
  if (compressed_read_bytes > 0) {
    input = sluice::fuzz::WithShortReads(std::move(input), compressed_read_bytes);
  }
  auto stream = sluice::io::MakeGzipInputStream("input.gz", std::move(input),
                                                sluice::exec::MemoryBudget::Process());
  std::string out;
  std::string piece(static_cast<size_t>(read_bytes), '\0');
  while (true) {
    ARROW_ASSIGN_OR_RAISE(int64_t got, stream->Read(read_bytes, piece.data()));
    if (got == 0) break;
    out.append(piece.data(), static_cast<size_t>(got));
    // Deflate expands up to 1032 times: cut a bomb short, so that one input costs
    // milliseconds even when read a byte at a time.
    if (out.size() > (64u << 10)) return arrow::Status::CapacityError("too much output");
  }
  ARROW_RETURN_NOT_OK(stream->Close());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  sluice::fuzz::ConfigureEngineForFuzzing();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  const uint8_t options_byte = input.ConsumeIntegral<uint8_t>();
  std::shared_ptr<arrow::Buffer> compressed =
      arrow::Buffer::FromString(input.ConsumeRemainingBytesAsString());

  constexpr int64_t kReadBytes[] = {3, 100, 4096, 1 << 16};
  constexpr int64_t kCompressedReadBytes[] = {0, 1, 17, 4096};
  auto chosen = Decompress(compressed, kReadBytes[options_byte & 3],
                           kCompressedReadBytes[(options_byte >> 2) & 3]);
  auto whole = Decompress(compressed, 1 << 20, 0);
  if (chosen.ok() != whole.ok()) {
    sluice::fuzz::Finding("reading in pieces " + (chosen.ok() ? std::string("succeeds")
                                                              : chosen.status().ToString()) +
                          " but in one read " +
                          (whole.ok() ? std::string("succeeds") : whole.status().ToString()));
  }
  if (chosen.ok() && *chosen != *whole) {
    sluice::fuzz::Finding("reading in pieces gives other bytes than one read");
  }
  return 0;
}
