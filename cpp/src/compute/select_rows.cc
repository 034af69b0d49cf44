#include "compute/select_rows.h"

#include <arrow/array.h>
#include <arrow/compute/api_vector.h>
#include <arrow/scalar.h>

namespace sluice::compute {

arrow::Result<std::shared_ptr<arrow::RecordBatch>> SelectRows(
    const std::shared_ptr<arrow::RecordBatch>& batch, const arrow::Datum& mask,
    const std::string& predicate, arrow::compute::ExecContext* ctx) {
  if (mask.type()->id() != arrow::Type::BOOL) {
    return arrow::Status::TypeError("filter: predicate ", predicate, " has type ",
                                    mask.type()->ToString(), ", expected boolean");
  }
  if (mask.is_scalar()) {
    const auto& scalar = mask.scalar_as<arrow::BooleanScalar>();
    return scalar.is_valid && scalar.value ? batch : nullptr;
  }
  const int64_t selected = mask.array_as<arrow::BooleanArray>()->true_count();
  if (selected == batch->num_rows()) return batch;
  if (selected == 0) return nullptr;
  ARROW_ASSIGN_OR_RAISE(
      arrow::Datum filtered,
      arrow::compute::Filter(batch, mask, arrow::compute::FilterOptions::Defaults(), ctx));
  return filtered.record_batch();
}

}  // namespace sluice::compute
