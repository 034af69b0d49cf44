// The JSON the catalog stores in its columns (catalog/catalog_store.h: partition columns,
// table parameters, partition values, a version's partitions), parsed as CatalogStore
// reads it back. A damaged value must be an error, never an exception out of the engine.
// Input: one column's text, given to every parser.

#include <string>

#include "catalog/catalog_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string json(reinterpret_cast<const char*>(data), size);
  (void)sluice::catalog::ParseStringListColumn(json, "fuzz input");
  (void)sluice::catalog::ParseStringMapColumn(json, "fuzz input");
  (void)sluice::catalog::ParsePartitionValuesColumn(json, "fuzz input");
  return 0;
}
