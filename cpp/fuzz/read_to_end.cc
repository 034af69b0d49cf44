#include "read_to_end.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "runtime/exec_context.h"
#include "sluice/config.h"

namespace sluice::fuzz {

namespace {

void CheckBatch(const arrow::RecordBatch& batch, const arrow::Schema& planned) {
  if (batch.num_columns() != planned.num_fields()) {
    Finding("a batch has " + std::to_string(batch.num_columns()) + " columns, the plan " +
            std::to_string(planned.num_fields()));
  }
  for (int i = 0; i < planned.num_fields(); ++i) {
    if (!batch.column(i)->type()->Equals(*planned.field(i)->type())) {
      Finding("column " + planned.field(i)->name() + " is " + batch.column(i)->type()->ToString() +
              " in a batch but " + planned.field(i)->type()->ToString() + " in the plan");
    }
  }
  arrow::Status valid = batch.ValidateFull();
  if (!valid.ok()) Finding("a batch is not valid Arrow data: " + valid.ToString());
}

}  // namespace

void Finding(const std::string& what) {
  std::fprintf(stderr, "FUZZ FINDING: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

void ConfigureEngineForFuzzing() {
  EngineConfig config = CurrentConfig();
  config.num_threads = 1;
  config.progress = false;
  config.memory_limit_bytes = int64_t{8} << 20;
  arrow::Status configured = Configure(config);
  if (!configured.ok()) {
    std::fprintf(stderr, "cannot configure the engine: %s\n", configured.ToString().c_str());
    std::abort();
  }
}

arrow::Result<int64_t> ReadToEnd(const plan::SourceSpec& spec, const plan::Pushdown& pushdown,
                                 const std::function<void(const arrow::RecordBatch&)>& visit) {
  ARROW_ASSIGN_OR_RAISE(auto planned, plan::ProjectSchema(spec.schema(), pushdown));
  exec::ExecContext ctx(CurrentConfig());
  ARROW_ASSIGN_OR_RAISE(auto tasks, spec.MakeTaskSource(&ctx, pushdown));
  int64_t rows = 0;
  while (true) {
    ARROW_ASSIGN_OR_RAISE(auto task, tasks->NextTask());
    if (!task) return rows;
    ARROW_ASSIGN_OR_RAISE(auto stream, task->open());
    while (true) {
      ARROW_ASSIGN_OR_RAISE(exec::BatchPtr batch, stream->Next());
      if (!batch) break;
      CheckBatch(*batch, *planned);
      if (visit) visit(*batch);
      rows += batch->num_rows();
    }
  }
}

}  // namespace sluice::fuzz
