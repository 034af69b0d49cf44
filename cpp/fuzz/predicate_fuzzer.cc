// The SQL predicate parser (sluice::ParsePredicate, api/predicate_parser.cc), and what a
// parsed filter goes through next: a Dataset filter over a small table (binding, the
// optimizer's pushdown into the source, the engine's kernels), checked against Arrow
// evaluating the same expression directly. When both succeed they must keep the same
// rows. Input: the predicate text.

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <arrow/json/from_string.h>

#include "compute/engine_functions.h"
#include "read_to_end.h"
#include "sluice/dataset.h"
#include "sluice/expression.h"

namespace {

std::shared_ptr<arrow::Table> MakeTable() {
  auto schema = arrow::schema({arrow::field("a", arrow::int64()), arrow::field("b", arrow::float64()),
                               arrow::field("s", arrow::utf8()), arrow::field("flag", arrow::boolean()),
                               arrow::field("year", arrow::int32())});
  auto table = arrow::Table::FromRecordBatches(
      {*arrow::RecordBatch::FromStructArray(*arrow::json::ArrayFromJSONString(
          arrow::struct_(schema->fields()),
          R"([{"a": 1, "b": 0.5, "s": "US", "flag": true, "year": 2015},
              {"a": -2, "b": NaN, "s": "", "flag": false, "year": 2016},
              {"a": null, "b": -1e300, "s": null, "flag": null, "year": 2015},
              {"a": 9223372036854775807, "b": null, "s": "it's", "flag": true, "year": null}])"))});
  return *table;
}

/// The rows of `table` where `predicate` is true, by Arrow alone.
arrow::Result<std::shared_ptr<arrow::Table>> ArrowFilter(const std::shared_ptr<arrow::Table>& table,
                                                         const sluice::Expression& predicate) {
  // Arrow's own kernels where Arrow has the function; Sluice's python_modulo (which Arrow
  // lacks) is checked against Python in compute_kernels_test.cc.
  auto bound = predicate.Bind(*table->schema());
  if (!bound.ok()) bound = sluice::compute::BindWithEngineFunctions(predicate, *table->schema());
  ARROW_RETURN_NOT_OK(bound.status());
  ARROW_ASSIGN_OR_RAISE(auto batch, table->CombineChunksToBatch());
  ARROW_ASSIGN_OR_RAISE(auto mask, arrow::compute::ExecuteScalarExpression(
                                       *bound, arrow::compute::ExecBatch(*batch)));
  if (!mask.type()->Equals(arrow::boolean())) {
    return arrow::Status::TypeError("not a predicate");
  }
  ARROW_ASSIGN_OR_RAISE(auto kept, arrow::compute::Filter(table, mask));
  return kept.table();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  sluice::fuzz::ConfigureEngineForFuzzing();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto predicate = sluice::ParsePredicate(std::string(reinterpret_cast<const char*>(data), size));
  if (!predicate.ok()) return 0;
  (void)predicate->ToString();

  static const std::shared_ptr<arrow::Table> table = MakeTable();
  auto dataset = sluice::Dataset::FromTable(table);
  if (!dataset.ok()) sluice::fuzz::Finding("FromTable: " + dataset.status().ToString());
  auto filtered = dataset->Filter(*predicate);
  if (!filtered.ok()) return 0;  // e.g. an unknown column or a type mismatch
  auto got = filtered->ToTable();
  auto expected = ArrowFilter(table, *predicate);
  if (!got.ok() || !expected.ok()) return 0;  // e.g. overflow: Arrow's checked arithmetic
  if (!(*got)->Equals(**expected)) {
    sluice::fuzz::Finding("the filter keeps other rows than Arrow's evaluation:\n" +
                          (*got)->ToString() + "\nArrow:\n" + (*expected)->ToString());
  }
  return 0;
}
