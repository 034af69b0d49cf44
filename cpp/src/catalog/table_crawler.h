#pragma once

// `sluice crawl PATH --table db.t`: registers data that is already in storage (written by
// Sluice or anything else) as a catalog table. Partitions come from the Hive `key=value`
// directories; row counts from the Parquet footers, which are read only for files in
// partitions the catalog does not know yet, so crawling again is cheap.

#include <arrow/result.h>

#include <string>

#include "catalog/catalog_store.h"

namespace sluice::catalog {

/// Links in `path` are followed as the readers follow them (io::ListOptions).
arrow::Result<CrawlResult> CrawlTable(CatalogStore* store, const std::string& path,
                                      const std::string& table, const std::string& format,
                                      bool follow_symlinks = false);

}  // namespace sluice::catalog
