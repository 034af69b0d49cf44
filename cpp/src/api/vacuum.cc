#include "sluice/vacuum.h"

#include "table/table_vacuum.h"

namespace sluice {

arrow::Result<VacuumResult> Vacuum(const std::string& path, int64_t retention_seconds) {
  if (retention_seconds < 0) {
    return arrow::Status::Invalid("vacuum: the retention must not be negative, got ",
                                  retention_seconds, " s");
  }
  ARROW_ASSIGN_OR_RAISE(io::VacuumReport report, io::VacuumTarget(path, retention_seconds));
  VacuumResult result;
  result.removed_staging_dirs = std::move(report.removed_staging_dirs);
  result.removed_files = std::move(report.removed_files);
  result.removed_bytes = report.removed_bytes;
  return result;
}

}  // namespace sluice
