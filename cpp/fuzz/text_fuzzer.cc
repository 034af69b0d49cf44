// ReadText on one file, checked line by line against the input: a read that succeeds must
// return exactly the file's lines (without "\n" or "\r\n"), so a line lost or split where
// two reads meet is a finding. Input: the file, then one options byte
// (read_options_byte.h).

#include <fuzzer/FuzzedDataProvider.h>

#include <arrow/array/array_binary.h>

#include <string>
#include <string_view>
#include <vector>

#include "in_memory_input.h"
#include "formats/file_sources.h"
#include "read_options_byte.h"
#include "read_to_end.h"

namespace {

std::vector<std::string_view> ExpectedLines(std::string_view file, bool drop_empty_lines) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < file.size()) {
    size_t end = file.find('\n', start);
    if (end == std::string_view::npos) end = file.size();
    std::string_view line = file.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!(drop_empty_lines && line.empty())) lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  sluice::fuzz::ConfigureEngineForFuzzing();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  const uint8_t options_byte = input.ConsumeIntegral<uint8_t>();
  const std::string file = input.ConsumeRemainingBytesAsString();

  sluice::ReadTextOptions options;
  options.drop_empty_lines = (options_byte & 1) != 0;
  options.include_paths = (options_byte & 2) != 0;
  const std::string path =
      sluice::fuzz::PutInputFile(file, "input.txt", sluice::fuzz::MaxReadBytes(options_byte));
  auto source = sluice::io::MakeTextSource({path}, options);
  if (!source.ok()) return 0;
  std::vector<std::string> lines;
  auto rows = sluice::fuzz::ReadToEnd(**source, {}, [&](const arrow::RecordBatch& batch) {
    const auto& text = static_cast<const arrow::StringArray&>(*batch.column(0));
    for (int64_t i = 0; i < text.length(); ++i) lines.emplace_back(text.GetView(i));
  });
  if (!rows.ok()) return 0;  // e.g. a line that is not UTF-8

  const std::vector<std::string_view> expected = ExpectedLines(file, options.drop_empty_lines);
  if (lines.size() != expected.size()) {
    sluice::fuzz::Finding(std::to_string(lines.size()) + " lines read, " +
                          std::to_string(expected.size()) + " in the file");
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i] != expected[i]) {
      sluice::fuzz::Finding("line " + std::to_string(i + 1) + " differs from the file's");
    }
  }
  return 0;
}
