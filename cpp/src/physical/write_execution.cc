#include "physical/write_execution.h"

#include "runtime/exec_context.h"
#include "physical/executor.h"
#include "runtime/pipeline.h"

namespace sluice::exec {

namespace {

arrow::Result<WriteResult> BeginRunAndCommit(ExecContext* ctx, const plan::WriteNode& write) {
  const plan::PlanNodePtr& input = write.input();
  ARROW_ASSIGN_OR_RAISE(std::unique_ptr<plan::SinkWrite> sink_write,
                        write.sink()->Begin(ctx, input->schema()));
  std::vector<std::shared_ptr<arrow::RecordBatch>> task_results;
  {
    ARROW_ASSIGN_OR_RAISE(auto tasks, BuildTaskSource(ctx, input));
    if (sink_write->RegroupsUnorderedInput() && !plan::HasDeliberateOrder(input)) {
      tasks = MakeLaneTaskSource(std::move(tasks), ctx->config().num_threads);
    }
    auto writing = MakeOperatorTaskSource(ctx, std::move(tasks), sink_write->task_writer(),
                                          ctx->AddCounters(write.ToString()));
    ARROW_ASSIGN_OR_RAISE(auto runner, PipelineRunner::Start(ctx, std::move(writing)));
    while (true) {
      auto next = runner->Next();
      if (!next.ok()) {
        // Stop every nested pipeline too; the runner's destructor joins the workers, which
        // closes their files before the abort removes what they staged.
        ctx->Cancel();
        return next.status();
      }
      if (*next == nullptr) break;
      task_results.push_back(std::move(*next));
    }
  }
  if (ctx->cancelled()) {
    // A cancelled task ends without finishing its output; never commit a partial write.
    return arrow::Status::Cancelled("write ", write.ToString(), " was cancelled");
  }
  return sink_write->Commit(task_results);
}

}  // namespace

arrow::Result<WriteResult> RunWrite(const plan::PlanNodePtr& write_plan,
                                    std::shared_ptr<ExecutionStats> stats_out,
                                    std::shared_ptr<SessionState> session) {
  if (!write_plan || write_plan->kind() != plan::NodeKind::kWrite) {
    return arrow::Status::Invalid("RunWrite needs a plan whose root is a write");
  }
  ExecContext ctx(session ? std::move(session) : SessionState::Default());
  auto result = BeginRunAndCommit(&ctx, static_cast<const plan::WriteNode&>(*write_plan));
  if (!result.ok()) ctx.MarkFailed(result.status());
  const ExecutionStats& stats = ctx.Finish();
  if (stats_out) *stats_out = stats;
  return result;
}

}  // namespace sluice::exec
