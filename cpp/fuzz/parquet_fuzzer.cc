// ReadParquet on one file: the footer (schema, row groups, statistics) when the source is
// made, the metadata-only count and size, then the pages: every column read in full, and
// the first column read again under a pushed-down filter, which prunes row groups by
// their statistics and filters decoded rows. Input: the file as is.

#include "in_memory_input.h"
#include "formats/file_sources.h"
#include "read_to_end.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  sluice::fuzz::ConfigureEngineForFuzzing();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = sluice::fuzz::PutInputFile(
      std::string_view(reinterpret_cast<const char*>(data), size), "input.parquet", 0);
  auto source = sluice::io::MakeParquetSource({path}, sluice::ReadParquetOptions{});
  if (!source.ok()) return 0;
  const sluice::plan::SourceSpec& spec = **source;

  sluice::plan::Pushdown everything;
  (void)spec.CountRowsFromMetadata(everything);
  (void)spec.SizeBytesFromMetadata(everything);
  (void)sluice::fuzz::ReadToEnd(spec, everything);

  if (spec.schema()->num_fields() == 0) return 0;
  const std::string first = spec.schema()->field(0)->name();
  sluice::plan::Pushdown filtered;
  filtered.columns = std::vector<std::string>{first};
  filtered.filter = arrow::compute::is_valid(arrow::compute::field_ref(first));
  (void)spec.SizeBytesFromMetadata(filtered);
  (void)sluice::fuzz::ReadToEnd(spec, filtered);
  return 0;
}
