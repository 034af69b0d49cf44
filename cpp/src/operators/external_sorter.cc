#include "operators/external_sorter.h"

#include <algorithm>

#include "compute/gather_rows.h"
#include "compute/parallel_sort.h"
#include "runtime/pipeline.h"

namespace sluice::operators {

namespace {
/// Spill batches are small enough that one per run of a wide merge fits the budget, and
/// large enough that IPC framing and compression stay efficient.
constexpr int64_t kMinSpillBatchBytes = 256 << 10;
constexpr int kMaxFanIn = 64;
/// Working memory of sorting one row: a uint64 index, and as much again while the
/// parallel sort merges its sorted chunks.
constexpr int64_t kSortBytesPerRow = 16;
}  // namespace

ExternalSorter::ExternalSorter(exec::ExecContext* ctx, std::vector<SortKey> keys,
                               exec::OperatorCounters* counters)
    : ctx_(ctx),
      keys_(std::move(keys)),
      counters_(counters),
      reservation_(std::make_unique<exec::MemoryReservation>(
          ctx->budget(), counters ? &counters->peak_reserved_bytes : nullptr)) {}

arrow::Result<std::unique_ptr<ExternalSorter>> ExternalSorter::Make(
    exec::ExecContext* ctx, std::shared_ptr<arrow::Schema> schema, std::vector<SortKey> keys,
    exec::OperatorCounters* counters) {
  if (keys.empty()) return arrow::Status::Invalid("sort: no keys given");
  std::unique_ptr<ExternalSorter> sorter(new ExternalSorter(ctx, std::move(keys), counters));
  if (schema) ARROW_RETURN_NOT_OK(sorter->SetSchema(std::move(schema)));
  return sorter;
}

arrow::Status ExternalSorter::SetSchema(std::shared_ptr<arrow::Schema> schema) {
  for (const auto& key : keys_) {
    if (schema->GetFieldIndex(key.column) < 0) {
      return arrow::Status::KeyError("sort: no column named '", key.column, "' in ",
                                     schema->ToString());
    }
  }
  schema_ = std::move(schema);
  return arrow::Status::OK();
}

arrow::Status ExternalSorter::Add(exec::BatchPtr batch) {
  if (!schema_) ARROW_RETURN_NOT_OK(SetSchema(batch->schema()));
  ARROW_ASSIGN_OR_RAISE(batch, exec::BatchUnderSchema(batch, schema_));
  if (batch->num_rows() == 0) return arrow::Status::OK();
  const int64_t bytes = exec::BatchReferencedBytes(*batch);
  // Sorting the buffered rows needs memory of its own: the sort indices and the scratch
  // of the parallel merge of sorted chunks. Claimed with the rows, so a run is cut while
  // sorting it still fits the budget (for narrow rows that is most of the cost).
  const int64_t claim = bytes + kSortBytesPerRow * batch->num_rows();
  if (!reservation_->TryGrow(claim)) {
    ARROW_RETURN_NOT_OK(SpillRun());
    reservation_->TryGrow(claim);  // an empty reservation is always granted
  }
  total_rows_ += batch->num_rows();
  total_bytes_ += bytes;
  buffered_rows_ += batch->num_rows();
  buffered_.push_back(std::move(batch));
  return arrow::Status::OK();
}

arrow::Result<std::shared_ptr<arrow::Table>> ExternalSorter::BufferedTable() const {
  return arrow::Table::FromRecordBatches(schema_ ? schema_ : arrow::schema({}), buffered_);
}

arrow::Result<std::shared_ptr<arrow::UInt64Array>> ExternalSorter::SortBuffered() const {
  exec::ScopedTimer timer(counters_ ? &counters_->cpu_nanos : nullptr);
  return compute::SortIndicesInParallel(
      buffered_, schema_, keys_, std::max(1, ctx_->config().num_threads), ctx_->compute_context());
}

int64_t ExternalSorter::SpillBatchRows() const {
  const int64_t row_bytes = std::max<int64_t>(1, total_bytes_ / std::max<int64_t>(1, total_rows_));
  const int64_t target =
      std::max(kMinSpillBatchBytes, ctx_->config().memory_limit_bytes / (4 * kMaxFanIn));
  return std::clamp<int64_t>(target / row_bytes, 256, ctx_->config().batch_rows);
}

arrow::Status ExternalSorter::SpillRun() {
  if (buffered_.empty()) return arrow::Status::OK();
  ARROW_ASSIGN_OR_RAISE(auto indices, SortBuffered());
  ARROW_ASSIGN_OR_RAISE(auto table, BufferedTable());
  ARROW_ASSIGN_OR_RAISE(auto rows, compute::IndexedBatches::Make(*table));
  std::atomic<int64_t>* spilled = counters_ ? &counters_->spilled_bytes : nullptr;
  ARROW_ASSIGN_OR_RAISE(auto writer, spill::SpillWriter::Open(ctx_->spill_directory(), "sort-run",
                                                              schema_, ctx_->pool(), spilled));
  const int64_t step = SpillBatchRows();
  for (int64_t offset = 0; offset < indices->length(); offset += step) {
    if (ctx_->cancelled()) return arrow::Status::Cancelled("sort cancelled");
    auto slice = std::static_pointer_cast<arrow::UInt64Array>(indices->Slice(offset, step));
    exec::BatchPtr batch;
    {
      exec::ScopedTimer timer(counters_ ? &counters_->cpu_nanos : nullptr);
      ARROW_ASSIGN_OR_RAISE(batch, rows->Gather(*slice, ctx_->compute_context()));
    }
    ARROW_RETURN_NOT_OK(writer->Write(*batch));
  }
  ARROW_ASSIGN_OR_RAISE(spill::SpillFile run, writer->Finish());
  runs_.push_back(std::move(run));
  buffered_.clear();
  buffered_rows_ = 0;
  reservation_->Release();
  return arrow::Status::OK();
}

arrow::Result<SortedOutput> ExternalSorter::Finish() {
  SortedOutput output;
  output.total_rows = total_rows_;
  if (runs_.empty()) {
    ARROW_ASSIGN_OR_RAISE(auto table, BufferedTable());
    std::shared_ptr<arrow::Array> order;
    if (table->num_rows() > 0) {
      ARROW_ASSIGN_OR_RAISE(order, SortBuffered());
    }
    buffered_.clear();
    output.in_memory = MaterializedRows{std::move(table), std::move(order)};
    output.reservation = std::move(reservation_);
    return output;
  }
  ARROW_RETURN_NOT_OK(SpillRun());
  std::atomic<int64_t>* spilled = counters_ ? &counters_->spilled_bytes : nullptr;
  ARROW_ASSIGN_OR_RAISE(
      output.merged, spill::SortedRunMerger::Make(ctx_, schema_, keys_, std::move(runs_), kMaxFanIn,
                                                  SpillBatchRows(), spilled));
  const int64_t row_bytes = std::max<int64_t>(1, total_bytes_ / std::max<int64_t>(1, total_rows_));
  output.merged_rows_per_piece = std::clamp<int64_t>(
      ctx_->config().memory_limit_bytes / 16 / row_bytes, 1024, int64_t{1} << 20);
  return output;
}

namespace {

class SortedOutputTaskSource : public exec::TaskSource {
 public:
  SortedOutputTaskSource(exec::ExecContext* ctx, std::string label,
                         std::function<arrow::Result<SortedOutput>()> produce,
                         exec::OperatorCounters* counters)
      : ctx_(ctx), label_(std::move(label)), produce_(std::move(produce)), counters_(counters) {}

  arrow::Result<std::optional<exec::ScanTask>> NextTask() override {
    if (!sorted_) ARROW_RETURN_NOT_OK(SortInput());
    if (in_memory_tasks_) return in_memory_tasks_->NextTask();
    ARROW_ASSIGN_OR_RAISE(exec::BatchPtr piece, [&]() -> arrow::Result<exec::BatchPtr> {
      exec::ScopedTimer timer(counters_ ? &counters_->cpu_nanos : nullptr);
      return output_.merged->Next(output_.merged_rows_per_piece);
    }());
    if (!piece) return std::nullopt;
    if (counters_) counters_->rows_out.fetch_add(piece->num_rows());
    exec::ScanTask task;
    task.label = label_ + " (merge of spilled runs)";
    const int64_t batch_rows = ctx_->config().batch_rows;
    task.open = [piece, batch_rows]() -> arrow::Result<std::unique_ptr<exec::BatchStream>> {
      return std::make_unique<exec::FunctionBatchStream>(
          [piece, batch_rows, offset = int64_t{0}]() mutable -> arrow::Result<exec::BatchPtr> {
            if (offset >= piece->num_rows()) return nullptr;
            exec::BatchPtr slice = piece->Slice(offset, batch_rows);
            offset += slice->num_rows();
            return slice;
          });
    };
    return task;
  }

 private:
  arrow::Status SortInput() {
    sorted_ = true;
    ARROW_ASSIGN_OR_RAISE(output_, produce_());
    if (!output_.merged) {
      auto rows = std::make_shared<MaterializedRows>(std::move(output_.in_memory));
      in_memory_tasks_ = MakeMaterializedTaskSource(
          ctx_, label_, [rows]() -> arrow::Result<MaterializedRows> { return *rows; },
          [ctx = ctx_](int64_t total) { return BalancedRowsPerTask(*ctx, total); }, counters_);
    }
    return arrow::Status::OK();
  }

  exec::ExecContext* ctx_;
  std::string label_;
  std::function<arrow::Result<SortedOutput>()> produce_;
  exec::OperatorCounters* counters_;
  bool sorted_ = false;
  SortedOutput output_;
  std::unique_ptr<exec::TaskSource> in_memory_tasks_;
};

}  // namespace

std::unique_ptr<exec::TaskSource> MakeSortedOutputTaskSource(
    exec::ExecContext* ctx, std::string label, std::function<arrow::Result<SortedOutput>()> produce,
    exec::OperatorCounters* counters) {
  return std::make_unique<SortedOutputTaskSource>(ctx, std::move(label), std::move(produce),
                                                  counters);
}

}  // namespace sluice::operators
