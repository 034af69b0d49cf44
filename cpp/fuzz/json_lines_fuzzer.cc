// ReadJson on one JSON lines file: schema inference from the first block, then every
// batch read against it. Input: the file, then one options byte (read_options_byte.h).

#include <fuzzer/FuzzedDataProvider.h>

#include "in_memory_input.h"
#include "formats/file_sources.h"
#include "read_options_byte.h"
#include "read_to_end.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  sluice::fuzz::ConfigureEngineForFuzzing();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  const uint8_t options_byte = input.ConsumeIntegral<uint8_t>();
  const std::string file = input.ConsumeRemainingBytesAsString();

  sluice::ReadJsonOptions options;
  options.include_paths = (options_byte & 1) != 0;
  constexpr sluice::BadLineAction kActions[] = {
      sluice::BadLineAction::kError, sluice::BadLineAction::kSkip,
      sluice::BadLineAction::kCollect, sluice::BadLineAction::kError};
  options.on_bad_lines = kActions[(options_byte >> 1) & 3];
  options.encoding_errors = (options_byte & 8) != 0 ? sluice::EncodingErrors::kReplace
                                                    : sluice::EncodingErrors::kStrict;
  if ((options_byte & 16) != 0) options.block_size = 256;
  const std::string path =
      sluice::fuzz::PutInputFile(file, "input.jsonl", sluice::fuzz::MaxReadBytes(options_byte));
  auto source = sluice::io::MakeJsonSource({path}, options);
  if (source.ok()) (void)sluice::fuzz::ReadToEnd(**source);
  return 0;
}
