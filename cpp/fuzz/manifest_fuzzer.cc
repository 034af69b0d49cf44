// The table manifest (_SUCCESS, table/table_manifest.cc): parsed as a reader finds it, then,
// when it is a valid Sluice manifest, listed as a directory (the files it names must
// exist, so the listing fails, which is fine) and written back: reading the written
// manifest must give the same manifest. Input: the _SUCCESS file as is.

#include "in_memory_input.h"
#include "table/file_listing.h"
#include "table/table_manifest.h"
#include "read_to_end.h"

namespace {

bool SameManifest(const sluice::io::TableManifest& a, const sluice::io::TableManifest& b) {
  if (a.snapshot != b.snapshot || a.write_id != b.write_id || a.operation != b.operation ||
      a.committed_at_ms != b.committed_at_ms || a.partition_cols != b.partition_cols ||
      a.files.size() != b.files.size()) {
    return false;
  }
  for (size_t i = 0; i < a.files.size(); ++i) {
    if (a.files[i].path != b.files[i].path || a.files[i].rows != b.files[i].rows ||
        a.files[i].bytes != b.files[i].bytes) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string uri = sluice::fuzz::PutInputFile(
      std::string_view(reinterpret_cast<const char*>(data), size), "table/_SUCCESS", 0);
  auto filesystem = sluice::fuzz::InputFileSystem();
  auto manifest = sluice::io::ReadManifest(filesystem.get(), "table");
  if (!manifest.ok() || !*manifest) return 0;

  (void)sluice::io::ListFiles({uri.substr(0, uri.rfind('/'))});

  auto written = sluice::io::WriteManifest(filesystem.get(), "table", **manifest);
  if (!written.ok()) sluice::fuzz::Finding("cannot write a manifest back: " + written.ToString());
  auto reread = sluice::io::ReadManifest(filesystem.get(), "table");
  if (!reread.ok() || !*reread) {
    sluice::fuzz::Finding("a manifest written back does not read: " +
                          (reread.ok() ? std::string("not a manifest") : reread.status().ToString()));
  }
  if (!SameManifest(**manifest, **reread)) {
    sluice::fuzz::Finding("a manifest written back reads differently");
  }
  return 0;
}
