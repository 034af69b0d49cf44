// ReadCsv on one file: schema inference from the first block, then every batch read
// with the inferred types. Input: the file, then one options byte (read_options_byte.h).

#include <fuzzer/FuzzedDataProvider.h>

#include "in_memory_input.h"
#include "io/sources.h"
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

  sluice::ReadCsvOptions options;
  constexpr char kDelimiters[] = {',', ';', '\t', '|'};
  options.delimiter = kDelimiters[options_byte & 3];
  options.header = (options_byte & 4) == 0;
  options.newlines_in_values = (options_byte & 8) != 0;
  options.escaping = (options_byte & 16) != 0;
  options.quoting = (options_byte & 32) == 0;
  const std::string path =
      sluice::fuzz::PutInputFile(file, "input.csv", sluice::fuzz::MaxReadBytes(options_byte));
  auto source = sluice::io::MakeCsvSource({path}, options);
  if (source.ok()) (void)sluice::fuzz::ReadToEnd(**source);
  return 0;
}
