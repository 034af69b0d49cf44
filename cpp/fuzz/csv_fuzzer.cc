// ReadCsv on one file: schema inference from the first block, then every batch read
// with the inferred types, in every bad-record mode. Input: the file, then a bad-record
// options byte, then the options byte (read_options_byte.h).

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
  // A second byte, before the first: the bad-record options (on_bad_lines in bits 0-1,
  // encoding_errors, empty_as_null, a small block size).
  const uint8_t records_byte = input.ConsumeIntegral<uint8_t>();
  const std::string file = input.ConsumeRemainingBytesAsString();

  sluice::ReadCsvOptions options;
  constexpr char kDelimiters[] = {',', ';', '\t', '|'};
  options.delimiter = kDelimiters[options_byte & 3];
  options.header = (options_byte & 4) == 0;
  options.newlines_in_values = (options_byte & 8) != 0;
  options.escaping = (options_byte & 16) != 0;
  options.quoting = (options_byte & 32) == 0;
  constexpr sluice::BadLineAction kActions[] = {
      sluice::BadLineAction::kError, sluice::BadLineAction::kSkip,
      sluice::BadLineAction::kCollect, sluice::BadLineAction::kError};
  options.on_bad_lines = kActions[records_byte & 3];
  options.encoding_errors = (records_byte & 4) != 0 ? sluice::EncodingErrors::kReplace
                                                    : sluice::EncodingErrors::kStrict;
  options.empty_as_null = (records_byte & 8) == 0;
  if ((records_byte & 16) != 0) options.block_size = 256;
  const std::string path =
      sluice::fuzz::PutInputFile(file, "input.csv", sluice::fuzz::MaxReadBytes(options_byte));
  auto source = sluice::io::MakeCsvSource({path}, options);
  if (source.ok()) (void)sluice::fuzz::ReadToEnd(**source);
  return 0;
}
