#pragma once

#include <arrow/record_batch.h>
#include <arrow/table.h>

#include <memory>

#include "core/batch_stream.h"
#include "runtime/exec_context.h"
#include "plan/logical_plan.h"

namespace sluice::operators {

/// Joins the rows of `left` with those of `right` as `spec` says, with Acero's hash join:
/// the right rows are built into a hash table, the left rows probe it as they arrive. The
/// readers must produce `spec.left_schema` and `spec.right_schema`; the result has exactly
/// `spec.output_schema`, its rows in no defined order.
///
/// The readers may hold whole inputs or any part of them in which all rows of a key are
/// together (one hash partition of each side): rows only ever meet rows of the other
/// reader, so outer and anti joins are right per partition. Columns whose types Acero's
/// join cannot hold (lists, structs, dictionaries, ...) are kept aside and gathered back
/// by row number, so they cost memory for as long as the call runs.
///
/// `counters`, if given, receives the join's own time: preparing input batches, the build
/// and probe work left when both inputs have ended, and assembling the output. Probing that
/// overlaps reading the inputs is not measured.
arrow::Result<std::shared_ptr<arrow::Table>> JoinStreams(
    exec::ExecContext* ctx, std::shared_ptr<arrow::RecordBatchReader> left,
    std::shared_ptr<arrow::RecordBatchReader> right, const plan::JoinSpec& spec,
    exec::OperatorCounters* counters = nullptr);

/// The task source of a join: runs both input pipelines into JoinStreams and hands out the
/// joined rows. `join.spec()` may be null (an input's schema is unknown until it runs):
/// the join is then resolved from the inputs' first batches.
arrow::Result<std::unique_ptr<exec::TaskSource>> MakeJoinTaskSource(
    exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> left,
    std::unique_ptr<exec::TaskSource> right, const plan::JoinNode& join,
    exec::OperatorCounters* counters);

}  // namespace sluice::operators
