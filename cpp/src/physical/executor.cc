#include "physical/executor.h"

#include "runtime/pipeline.h"
#include "operators/aggregate_operator.h"
#include "operators/filter_operator.h"
#include "operators/join_operator.h"
#include "operators/limit_operator.h"
#include "operators/map_batches_operator.h"
#include "operators/project_operator.h"
#include "operators/repartition_operator.h"
#include "operators/sort_operator.h"
#include "operators/union_operator.h"

namespace sluice::exec {

namespace {

arrow::Result<std::unique_ptr<TaskSource>> Wrap(ExecContext* ctx, std::unique_ptr<TaskSource> input,
                                                std::shared_ptr<const StreamOperator> op) {
  OperatorCounters* counters = ctx->AddCounters(op->ToString());
  return MakeOperatorTaskSource(ctx, std::move(input), std::move(op), counters);
}

}  // namespace

arrow::Result<std::unique_ptr<TaskSource>> BuildTaskSource(ExecContext* ctx,
                                                           const plan::PlanNodePtr& node) {
  using plan::NodeKind;
  switch (node->kind()) {
    case NodeKind::kSource: {
      const auto& source = static_cast<const plan::SourceNode&>(*node);
      ARROW_ASSIGN_OR_RAISE(auto tasks, source.spec()->MakeTaskSource(ctx, source.pushdown()));
      return MakeMeasuredSourceTaskSource(ctx, std::move(tasks),
                                          ctx->AddCounters(source.ToString()));
    }
    case NodeKind::kFilter: {
      const auto& filter = static_cast<const plan::FilterNode&>(*node);
      ARROW_ASSIGN_OR_RAISE(auto input, BuildTaskSource(ctx, filter.input()));
      ARROW_ASSIGN_OR_RAISE(auto op, operators::FilterOperator::Make(filter.predicate()));
      return Wrap(ctx, std::move(input), std::move(op));
    }
    case NodeKind::kProject: {
      const auto& project = static_cast<const plan::ProjectNode&>(*node);
      ARROW_ASSIGN_OR_RAISE(auto input, BuildTaskSource(ctx, project.input()));
      ARROW_ASSIGN_OR_RAISE(auto op,
                            operators::ProjectOperator::Make(project.exprs(), project.names()));
      return Wrap(ctx, std::move(input), std::move(op));
    }
    case NodeKind::kMapBatches: {
      const auto& map = static_cast<const plan::MapBatchesNode&>(*node);
      ARROW_ASSIGN_OR_RAISE(auto input, BuildTaskSource(ctx, map.input()));
      ARROW_ASSIGN_OR_RAISE(auto op,
                            operators::MapBatchesOperator::Make(map.factory(), map.options()));
      return Wrap(ctx, std::move(input), std::move(op));
    }
    case NodeKind::kLimit: {
      const auto& limit = static_cast<const plan::LimitNode&>(*node);
      ARROW_ASSIGN_OR_RAISE(auto input, BuildTaskSource(ctx, limit.input()));
      ARROW_ASSIGN_OR_RAISE(auto per_task, operators::TaskLimitOperator::Make(limit.limit()));
      ARROW_ASSIGN_OR_RAISE(input, Wrap(ctx, std::move(input), std::move(per_task)));
      return operators::MakeLimitTaskSource(ctx, std::move(input), limit.limit());
    }
    case NodeKind::kSort: {
      const auto& sort = static_cast<const plan::SortNode&>(*node);
      ARROW_ASSIGN_OR_RAISE(auto input, BuildTaskSource(ctx, sort.input()));
      return operators::MakeSortTaskSource(ctx, std::move(input), sort.keys(),
                                           ctx->AddCounters(sort.ToString()));
    }
    case NodeKind::kAggregate: {
      const auto& agg = static_cast<const plan::AggregateNode&>(*node);
      ARROW_ASSIGN_OR_RAISE(auto input, BuildTaskSource(ctx, agg.input()));
      return operators::MakeAggregateTaskSource(ctx, std::move(input), agg.input()->schema(),
                                                agg.keys(), agg.aggregates(),
                                                ctx->AddCounters(agg.ToString()));
    }
    case NodeKind::kRepartition: {
      const auto& rep = static_cast<const plan::RepartitionNode&>(*node);
      ARROW_ASSIGN_OR_RAISE(auto input, BuildTaskSource(ctx, rep.input()));
      return operators::MakeRepartitionTaskSource(ctx, std::move(input), rep.num_blocks(),
                                                  rep.keys(), ctx->AddCounters(rep.ToString()));
    }
    case NodeKind::kUnion: {
      std::vector<std::unique_ptr<TaskSource>> inputs;
      for (const auto& input : node->inputs()) {
        ARROW_ASSIGN_OR_RAISE(auto source, BuildTaskSource(ctx, input));
        inputs.push_back(std::move(source));
      }
      return operators::MakeUnionTaskSource(std::move(inputs));
    }
    case NodeKind::kJoin: {
      const auto& join = static_cast<const plan::JoinNode&>(*node);
      ARROW_ASSIGN_OR_RAISE(auto left, BuildTaskSource(ctx, join.inputs().at(0)));
      ARROW_ASSIGN_OR_RAISE(auto right, BuildTaskSource(ctx, join.inputs().at(1)));
      return operators::MakeJoinTaskSource(ctx, std::move(left), std::move(right), join,
                                           ctx->AddCounters(join.ToString()));
    }
  }
  return arrow::Status::NotImplemented("plan node ", node->ToString());
}

arrow::Result<std::shared_ptr<PlanReader>> PlanReader::Open(
    const plan::PlanNodePtr& plan, std::shared_ptr<ExecutionStats> stats_out,
    std::shared_ptr<SessionState> session) {
  std::shared_ptr<PlanReader> reader(new PlanReader());
  reader->ctx_ = std::make_unique<ExecContext>(session ? std::move(session)
                                                       : SessionState::Default());
  reader->stats_out_ = std::move(stats_out);
  arrow::Status started = [&]() -> arrow::Status {
    ARROW_ASSIGN_OR_RAISE(auto tasks, BuildTaskSource(reader->ctx_.get(), plan));
    ARROW_ASSIGN_OR_RAISE(reader->runner_,
                          PipelineRunner::Start(reader->ctx_.get(), std::move(tasks)));
    reader->schema_ = plan->schema();
    if (!reader->schema_) {
      // The plan's output is only known once a user function has run.
      ARROW_ASSIGN_OR_RAISE(reader->peeked_, reader->runner_->Next());
      if (!reader->peeked_) {
        return arrow::Status::Invalid(
            "the plan produced no rows, so the output schema of its user function is unknown");
      }
      reader->schema_ = reader->peeked_->schema();
    }
    return arrow::Status::OK();
  }();
  if (!started.ok()) {
    reader->ctx_->MarkFailed(started);
    return started;
  }
  return reader;
}

PlanReader::~PlanReader() { ARROW_UNUSED(Close()); }

void PlanReader::PublishStats() {
  if (!ctx_) return;
  const ExecutionStats& stats = ctx_->Finish();
  if (stats_out_) *stats_out_ = stats;
}

arrow::Status PlanReader::ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) {
  *batch = nullptr;
  if (finished_) return arrow::Status::OK();
  BatchPtr next;
  if (peeked_) {
    next = std::move(peeked_);
  } else {
    auto result = runner_->Next();
    if (!result.ok()) {
      ctx_->MarkFailed(result.status());
      PublishStats();
      ctx_->Cancel();
      finished_ = true;
      return result.status();
    }
    next = std::move(*result);
  }
  if (!next) {
    finished_ = true;
    PublishStats();
    return arrow::Status::OK();
  }
  if (!next->schema()->Equals(*schema_, /*check_metadata=*/false)) {
    if (next->num_columns() == 0 && schema_->num_fields() == 0) {
      ctx_->AddRowsOut(next->num_rows());
      *batch = std::move(next);
      return arrow::Status::OK();
    }
    auto error = arrow::Status::TypeError(
        "a batch's schema differs from the dataset's; make the user function return the "
        "same columns and types for every batch.\nexpected: ",
        schema_->ToString(), "\ngot: ", next->schema()->ToString());
    ctx_->MarkFailed(error);
    return error;
  }
  ctx_->AddRowsOut(next->num_rows());
  *batch = std::move(next);
  return arrow::Status::OK();
}

arrow::Status PlanReader::Close() {
  if (runner_) {
    if (!finished_) PublishStats();
    ctx_->Cancel();
    runner_.reset();
  }
  finished_ = true;
  return arrow::Status::OK();
}

}  // namespace sluice::exec
