#include "catalog/partition_pruning.h"

#include <arrow/compute/expression.h>
#include <arrow/scalar.h>
#include <arrow/type.h>

#include <algorithm>

#include "compute/engine_functions.h"
#include "compute/expression_depth.h"
#include "compute/kleene_chains.h"
#include "sluice/expression.h"

namespace sluice::catalog {

namespace cp = arrow::compute;

namespace {

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out;
}

/// The guarantee a partition's values give; a value that does not parse as the column's
/// type gives none for that column (the partition is then never pruned on it).
cp::Expression Guarantee(const PartitionInfo& partition, const arrow::Schema& schema) {
  std::vector<cp::Expression> terms;
  for (const auto& [column, value] : partition.values) {
    auto field = schema.GetFieldByName(column);
    if (!field) continue;
    if (!value) {
      terms.push_back(cp::is_null(cp::field_ref(column)));
      continue;
    }
    auto scalar = arrow::Scalar::Parse(field->type(), *value);
    if (!scalar.ok()) continue;
    terms.push_back(cp::equal(cp::field_ref(column), cp::literal(std::move(*scalar))));
  }
  return terms.empty() ? cp::literal(true) : cp::and_(std::move(terms));
}

}  // namespace

arrow::Result<std::vector<PartitionInfo>> PrunePartitions(
    std::vector<PartitionInfo> partitions, const arrow::Schema& schema,
    const std::vector<std::string>& partition_cols, const Expression& filter,
    bool partition_columns_only) {
  // First, before any recursive pass over the filter.
  ARROW_RETURN_NOT_OK(compute::CheckExpressionDepth(filter, "partition filter", kMaxExpressionDepth));
  for (const auto& ref : cp::FieldsInExpression(filter)) {
    const std::string* name = ref.name();
    if (name == nullptr) return arrow::Status::Invalid("the filter must name its columns");
    if (!schema.GetFieldByName(*name)) {
      return arrow::Status::KeyError(
          "the filter uses column '", *name,
          "', which the table does not have (columns: ", JoinNames(schema.field_names()), ")");
    }
    if (partition_columns_only &&
        std::find(partition_cols.begin(), partition_cols.end(), *name) == partition_cols.end()) {
      return arrow::Status::Invalid("a partition filter may only use the partition columns (",
                                    JoinNames(partition_cols), "), not '", *name, "'");
    }
  }
  ARROW_ASSIGN_OR_RAISE(cp::Expression bound,
                        compute::BindWithEngineFunctions(compute::UseSetLookups(filter, schema), schema));
  if (bound.type()->id() != arrow::Type::BOOL && bound.type()->id() != arrow::Type::NA) {
    return arrow::Status::TypeError("the filter must be a condition, not ",
                                    bound.type()->ToString(), ": ", compute::DescribeExpression(filter));
  }
  std::vector<PartitionInfo> kept;
  for (auto& partition : partitions) {
    ARROW_ASSIGN_OR_RAISE(cp::Expression guarantee, compute::BindWithEngineFunctions(Guarantee(partition, schema), schema));
    ARROW_ASSIGN_OR_RAISE(cp::Expression simplified, cp::SimplifyWithGuarantee(bound, guarantee));
    if (simplified.IsSatisfiable()) kept.push_back(std::move(partition));
  }
  return kept;
}

}  // namespace sluice::catalog
