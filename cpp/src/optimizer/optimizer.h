#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "plan/logical_plan.h"

namespace sluice::optimizer {

/// Rewrites a logical plan into an equivalent, cheaper one:
///  1. fold adjacent projections and adjacent filters into one;
///  2. push filters down through projections, sorts and unions into sources that take
///     them (Parquet: row-group statistics and hive partition pruning), and each term of a
///     filter above a join to the side(s) it can be decided on;
///  3. prune columns nobody reads, down to the source's column list (a join's sides keep
///     their keys);
///  4. push limits below projections and into sources;
///  5. fuse adjacent stateless map_batches calls into one.
/// A write at the root stays there, over its optimized input.
arrow::Result<plan::PlanNodePtr> Optimize(const plan::PlanNodePtr& root);

/// The kind of SerializedFunction a fused map_batches writes: a JSON array of the fused
/// functions' own {kind, payload (base64)}, in call order (api/plan_bytes.cc reads it).
inline constexpr char kChainedFunctionsKind[] = "chain";

/// The functions `functions` write, as one function of kChainedFunctionsKind.
arrow::Result<SerializedFunction> ChainOfFunctions(
    const std::vector<std::function<arrow::Result<SerializedFunction>()>>& functions);

/// `expr` with every column reference replaced by the matching entry of `bindings`
/// (name -> expression); columns not in `bindings` are kept.
arrow::Result<arrow::compute::Expression> SubstituteColumns(
    const arrow::compute::Expression& expr,
    const std::map<std::string, arrow::compute::Expression>& bindings);

}  // namespace sluice::optimizer
