#include "physical/fragment_execution.h"

#include <arrow/compute/api_vector.h>
#include <arrow/record_batch.h>

#include <algorithm>

#include "compute/parallel_sort.h"
#include "compute/row_comparator.h"
#include "compute/row_hash.h"
#include "runtime/exec_context.h"
#include "physical/executor.h"
#include "runtime/pipeline.h"
#include "operators/write_operator.h"

namespace sluice::exec {

namespace cp = arrow::compute;

namespace {

/// Whether `table` is the output of a task whose user function never ran (no rows, so
/// no schema): it adds nothing to an input whose schema others tell.
bool IsEmptyOfUnknownSchema(const arrow::Table& table) {
  return table.num_rows() == 0 && table.num_columns() == 0;
}

/// The tables of one input as one table of `schema` (null: the first table's that has
/// columns).
arrow::Result<std::shared_ptr<arrow::Table>> InputTable(
    const std::vector<std::shared_ptr<arrow::Table>>& tables, std::shared_ptr<arrow::Schema> schema,
    arrow::MemoryPool* pool) {
  for (const auto& table : tables) {
    if (!table) return arrow::Status::Invalid("fragment input: a null table");
  }
  if (!schema) {
    for (const auto& table : tables) {
      if (!IsEmptyOfUnknownSchema(*table)) {
        schema = table->schema();
        break;
      }
    }
    if (!schema) schema = arrow::schema({});
  }
  std::vector<std::shared_ptr<arrow::Table>> conformed;
  int64_t rows = 0;
  for (const auto& table : tables) {
    if (IsEmptyOfUnknownSchema(*table) && schema->num_fields() > 0) continue;
    rows += table->num_rows();
    if (table->schema()->Equals(*schema, /*check_metadata=*/true)) {
      conformed.push_back(table);
      continue;
    }
    // Outputs of other processes may differ in metadata or nullability; types must agree.
    bool same_types = table->num_columns() == schema->num_fields();
    for (int i = 0; same_types && i < schema->num_fields(); ++i) {
      same_types = table->column(i)->type()->Equals(*schema->field(i)->type());
    }
    if (!same_types) {
      return arrow::Status::TypeError("fragment input: data with columns ",
                                      table->schema()->ToString(), " where ", schema->ToString(),
                                      " was expected");
    }
    conformed.push_back(arrow::Table::Make(schema, table->columns(), table->num_rows()));
  }
  if (conformed.empty()) return arrow::Table::MakeEmpty(schema, pool);
  // Tables without columns still have rows (a count's input): Arrow's concatenation
  // would make them zero.
  if (schema->num_fields() == 0) return arrow::Table::Make(schema, arrow::ChunkedArrayVector{}, rows);
  return arrow::ConcatenateTables(conformed, arrow::ConcatenateTablesOptions::Defaults(), pool);
}

/// An input without data whose schema a user function decides: no rows, and no schema
/// to disagree with the other inputs of a union.
class NoRowsOfUnknownSchema : public plan::SourceSpec {
 public:
  std::string name() const override { return "FragmentInput"; }
  std::string Describe() const override { return "no rows"; }
  std::shared_ptr<arrow::Schema> schema() const override { return nullptr; }
  arrow::Result<std::unique_ptr<TaskSource>> MakeTaskSource(ExecContext*,
                                                            const plan::Pushdown&) const override {
    class NoTasks : public TaskSource {
     public:
      arrow::Result<std::optional<ScanTask>> NextTask() override { return std::nullopt; }
    };
    return std::make_unique<NoTasks>();
  }
};

/// The rows of `table` at `indices` (in that order), one table per partition.
arrow::Result<std::vector<std::shared_ptr<arrow::Table>>> TakePartitions(
    const std::shared_ptr<arrow::Table>& table, const std::vector<uint32_t>& partition_of,
    int partitions, arrow::MemoryPool* pool) {
  std::vector<std::vector<uint64_t>> rows(partitions);
  for (size_t i = 0; i < partition_of.size(); ++i) rows[partition_of[i]].push_back(i);
  std::vector<std::shared_ptr<arrow::Table>> out;
  cp::ExecContext compute(pool);
  for (int p = 0; p < partitions; ++p) {
    arrow::UInt64Builder indices(pool);
    ARROW_RETURN_NOT_OK(indices.AppendValues(rows[p]));
    ARROW_ASSIGN_OR_RAISE(auto array, indices.Finish());
    ARROW_ASSIGN_OR_RAISE(arrow::Datum taken,
                          cp::Take(table, array, cp::TakeOptions::NoBoundsCheck(), &compute));
    out.push_back(taken.table());
  }
  return out;
}

arrow::Result<std::vector<std::shared_ptr<arrow::Table>>> ReadAll(const plan::PlanNodePtr& plan,
                                                                  std::shared_ptr<SessionState> session,
                                                                  std::shared_ptr<ExecutionStats> stats) {
  if (plan->schema()) {
    ARROW_ASSIGN_OR_RAISE(auto reader, PlanReader::Open(plan, std::move(stats), std::move(session)));
    ARROW_ASSIGN_OR_RAISE(auto table, reader->ToTable());
    return std::vector<std::shared_ptr<arrow::Table>>{std::move(table)};
  }
  // A user function decides the schema: a task whose splits give no rows never runs it,
  // and returns a table without columns or rows, which readers of its output skip.
  ExecContext ctx(session ? std::move(session) : SessionState::Default());
  auto read = [&]() -> arrow::Result<std::shared_ptr<arrow::Table>> {
    ARROW_ASSIGN_OR_RAISE(auto tasks, BuildTaskSource(&ctx, plan));
    ARROW_ASSIGN_OR_RAISE(auto runner, PipelineRunner::Start(&ctx, std::move(tasks)));
    std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
    while (true) {
      ARROW_ASSIGN_OR_RAISE(auto batch, runner->Next());
      if (!batch) break;
      if (!batches.empty()) {
        ARROW_ASSIGN_OR_RAISE(batch, BatchUnderSchema(batch, batches.front()->schema()));
      }
      batches.push_back(std::move(batch));
    }
    if (batches.empty()) return arrow::Table::MakeEmpty(arrow::schema({}));
    return arrow::Table::FromRecordBatches(batches.front()->schema(), batches);
  }();
  if (!read.ok()) ctx.MarkFailed(read.status());
  const ExecutionStats& figures = ctx.Finish();
  if (stats) *stats = figures;
  ARROW_ASSIGN_OR_RAISE(auto table, std::move(read));
  return std::vector<std::shared_ptr<arrow::Table>>{std::move(table)};
}

arrow::Result<std::vector<std::shared_ptr<arrow::Table>>> WriteAll(
    const plan::PlanNodePtr& plan, const plan::SerializedPart& task_writer, int64_t task_index,
    const FragmentTaskCodecs& codecs, std::shared_ptr<SessionState> session,
    std::shared_ptr<ExecutionStats> stats) {
  ExecContext ctx(session ? std::move(session) : SessionState::Default());
  auto written = [&]() -> arrow::Result<std::shared_ptr<arrow::Table>> {
    // Task ids of one fragment task fit below 2^20; each fragment task starts past the
    // ids of those before it, so staged names never collide.
    if (!codecs.open_task_writer) return arrow::Status::Invalid("no codec opens task writers");
    ARROW_ASSIGN_OR_RAISE(auto writer, codecs.open_task_writer(task_writer, &ctx, task_index << 20));
    ARROW_ASSIGN_OR_RAISE(auto tasks, BuildTaskSource(&ctx, plan));
    auto writing = MakeOperatorTaskSource(&ctx, std::move(tasks), writer,
                                          ctx.AddCounters("WriteFragment"));
    ARROW_ASSIGN_OR_RAISE(auto runner, PipelineRunner::Start(&ctx, std::move(writing)));
    std::vector<std::shared_ptr<arrow::RecordBatch>> results;
    while (true) {
      auto next = runner->Next();
      if (!next.ok()) {
        ctx.Cancel();
        return next.status();
      }
      if (*next == nullptr) break;
      results.push_back(std::move(*next));
    }
    if (ctx.cancelled()) return arrow::Status::Cancelled("write fragment was cancelled");
    // Ids past this task's 2^20 would name the next task's staged files.
    for (const auto& batch : results) {
      ARROW_ASSIGN_OR_RAISE(auto files, io::WriteOperator::StagedFilesFromBatch(*batch));
      for (const auto& file : files) {
        if (file.task_id - (task_index << 20) >= (int64_t{1} << 20)) {
          return arrow::Status::Invalid("a write fragment task ran more than 2^20 engine tasks; "
                                        "give it fewer splits");
        }
      }
    }
    return arrow::Table::FromRecordBatches(io::WriteOperator::ResultSchema(), results);
  }();
  if (!written.ok()) ctx.MarkFailed(written.status());
  const ExecutionStats& figures = ctx.Finish();
  if (stats) *stats = figures;
  ARROW_ASSIGN_OR_RAISE(auto table, std::move(written));
  return std::vector<std::shared_ptr<arrow::Table>>{std::move(table)};
}

}  // namespace

arrow::Result<std::vector<std::shared_ptr<arrow::Table>>> RunFragmentTask(
    const FragmentTask& task, const FragmentTaskCodecs& codecs,
    std::shared_ptr<SessionState> session, std::shared_ptr<ExecutionStats> stats_out) {
  if (!task.plan) return arrow::Status::Invalid("fragment task without a plan");
  if (!codecs.table_source) return arrow::Status::Invalid("no codec makes input sources");
  if (!session) session = SessionState::Default();
  arrow::MemoryPool* pool = session->budget();
  plan::PlanNodePtr plan = task.plan;
  if (task.splits) {
    ARROW_ASSIGN_OR_RAISE(plan, plan::RestrictScans(plan, *task.splits));
  }
  ARROW_ASSIGN_OR_RAISE(
      plan, plan::BindFragmentInputs(
                plan,
                [&](int index, const std::shared_ptr<arrow::Schema>& schema)
                    -> arrow::Result<std::shared_ptr<const plan::SourceSpec>> {
                  static const std::vector<std::shared_ptr<arrow::Table>> kNone;
                  const auto& tables =
                      index < static_cast<int>(task.inputs.size()) ? task.inputs[index] : kNone;
                  const bool no_data = std::all_of(
                      tables.begin(), tables.end(),
                      [](const auto& t) { return t && IsEmptyOfUnknownSchema(*t); });
                  if (!schema && no_data) {
                    return std::make_shared<const NoRowsOfUnknownSchema>();
                  }
                  ARROW_ASSIGN_OR_RAISE(auto table, InputTable(tables, schema, pool));
                  return codecs.table_source(std::move(table));
                }));
  if (task.task_writer) {
    if (task.task_index < 0 || task.task_index >= (int64_t{1} << 40)) {
      return arrow::Status::Invalid("fragment task index out of range: ", task.task_index);
    }
    return WriteAll(plan, *task.task_writer, task.task_index, codecs, std::move(session),
                    std::move(stats_out));
  }
  ARROW_ASSIGN_OR_RAISE(auto output, ReadAll(plan, std::move(session), std::move(stats_out)));
  return PartitionTable(output.front(), task.output, task.range_boundaries, pool);
}

arrow::Result<std::vector<std::shared_ptr<arrow::Table>>> PartitionTable(
    const std::shared_ptr<arrow::Table>& table, const plan::Exchange& exchange,
    const std::shared_ptr<arrow::Table>& boundaries, arrow::MemoryPool* pool) {
  using Kind = plan::Exchange::Kind;
  if (exchange.kind != Kind::kHash && exchange.kind != Kind::kRange) {
    return std::vector<std::shared_ptr<arrow::Table>>{table};
  }
  const int partitions = exchange.partitions;
  if (partitions <= 0 || partitions > (1 << 20)) {
    return arrow::Status::Invalid("exchange into ", partitions, " partitions");
  }
  ARROW_ASSIGN_OR_RAISE(auto combined, table->CombineChunksToBatch(pool));
  std::vector<uint32_t> partition_of(combined->num_rows(), 0);
  if (exchange.kind == Kind::kHash) {
    std::vector<std::shared_ptr<arrow::Array>> keys;
    for (const auto& key : exchange.keys) {
      auto column = combined->GetColumnByName(key);
      if (!column) return arrow::Status::KeyError("hash exchange: no column named '", key, "'");
      keys.push_back(std::move(column));
    }
    std::vector<uint64_t> hashes;
    ARROW_RETURN_NOT_OK(compute::HashRows(keys, /*seed=*/0, &hashes));
    for (size_t i = 0; i < hashes.size(); ++i) {
      partition_of[i] = static_cast<uint32_t>(hashes[i] % static_cast<uint64_t>(partitions));
    }
  } else if (boundaries && boundaries->num_rows() > 0) {
    if (boundaries->num_rows() >= partitions) {
      return arrow::Status::Invalid("range exchange: ", boundaries->num_rows(),
                                    " boundaries for ", partitions, " partitions");
    }
    ARROW_ASSIGN_OR_RAISE(auto comparator,
                          compute::RowComparator::Make(*combined->schema(), exchange.sort_keys));
    ARROW_ASSIGN_OR_RAISE(auto bounds, boundaries->CombineChunksToBatch(pool));
    ARROW_ASSIGN_OR_RAISE(bounds, BatchUnderSchema(bounds, combined->schema()));
    const auto rows = comparator.KeysOf(*combined);
    const auto limits = comparator.KeysOf(*bounds);
    const int64_t count = bounds->num_rows();
    for (int64_t i = 0; i < combined->num_rows(); ++i) {
      // The first boundary the row does not sort after.
      int64_t low = 0, high = count;
      while (low < high) {
        const int64_t mid = (low + high) / 2;
        if (comparator.Compare(rows, i, limits, mid) > 0) {
          low = mid + 1;
        } else {
          high = mid;
        }
      }
      partition_of[i] = static_cast<uint32_t>(low);
    }
  }
  return TakePartitions(arrow::Table::Make(combined->schema(), combined->columns(),
                                           combined->num_rows()),
                        partition_of, partitions, pool);
}

arrow::Result<std::shared_ptr<arrow::Table>> SampleRangeBoundaries(
    const std::vector<std::shared_ptr<arrow::Table>>& tables, const std::vector<SortKey>& keys,
    int partitions, int64_t sample_rows, arrow::MemoryPool* pool) {
  if (tables.empty() || !tables.front()) return arrow::Status::Invalid("no tables to sample");
  if (partitions <= 0) return arrow::Status::Invalid("range exchange into ", partitions, " partitions");
  ARROW_ASSIGN_OR_RAISE(auto all, InputTable(tables, nullptr, pool));
  const int64_t rows = all->num_rows();
  if (rows == 0 || partitions == 1) return all->Slice(0, 0);
  // Evenly spread rows: the same boundaries every time for the same data.
  const int64_t wanted = std::min<int64_t>(std::max<int64_t>(sample_rows, partitions), rows);
  arrow::UInt64Builder picks(pool);
  for (int64_t i = 0; i < wanted; ++i) {
    ARROW_RETURN_NOT_OK(picks.Append(static_cast<uint64_t>(i * rows / wanted)));
  }
  ARROW_ASSIGN_OR_RAISE(auto pick_array, picks.Finish());
  cp::ExecContext compute(pool);
  ARROW_ASSIGN_OR_RAISE(arrow::Datum sample, cp::Take(all, pick_array, cp::TakeOptions::Defaults(), &compute));
  ARROW_ASSIGN_OR_RAISE(auto sample_batch, sample.table()->CombineChunksToBatch(pool));
  ARROW_ASSIGN_OR_RAISE(auto order, cp::SortIndices(arrow::Datum(sample_batch),
                                                    compute::ArrowSortOptions(keys), &compute));
  const auto& sorted = static_cast<const arrow::UInt64Array&>(*order);
  arrow::UInt64Builder chosen(pool);
  for (int p = 1; p < partitions; ++p) {
    ARROW_RETURN_NOT_OK(chosen.Append(sorted.Value(static_cast<int64_t>(p) * wanted / partitions)));
  }
  ARROW_ASSIGN_OR_RAISE(auto chosen_array, chosen.Finish());
  ARROW_ASSIGN_OR_RAISE(arrow::Datum bounds, cp::Take(sample_batch, chosen_array,
                                                      cp::TakeOptions::Defaults(), &compute));
  return arrow::Table::FromRecordBatches({bounds.record_batch()});
}

arrow::Result<std::vector<std::shared_ptr<arrow::Table>>> CutIntoBlocks(
    const std::vector<std::shared_ptr<arrow::Table>>& tables, int blocks) {
  if (tables.empty() || !tables.front()) return arrow::Status::Invalid("no tables to cut into blocks");
  if (blocks <= 0) return arrow::Status::Invalid("cut into ", blocks, " blocks");
  ARROW_ASSIGN_OR_RAISE(auto all, InputTable(tables, nullptr, arrow::default_memory_pool()));
  // As repartition(n) without keys: ceil(rows / n) rows a block.
  const int64_t per_block = (all->num_rows() + blocks - 1) / blocks;
  std::vector<std::shared_ptr<arrow::Table>> out;
  for (int b = 0; b < blocks; ++b) {
    const int64_t offset = std::min(all->num_rows(), b * per_block);
    out.push_back(all->Slice(offset, std::min(per_block, all->num_rows() - offset)));
  }
  return out;
}

// ---- FragmentWrite

arrow::Result<std::unique_ptr<FragmentWrite>> FragmentWrite::Begin(
    const plan::WriteNode& write, std::shared_ptr<SessionState> session) {
  std::unique_ptr<FragmentWrite> out(new FragmentWrite());
  out->ctx_ = std::make_unique<ExecContext>(session ? std::move(session) : SessionState::Default());
  ARROW_ASSIGN_OR_RAISE(out->sink_write_, write.sink()->Begin(out->ctx_.get(), write.input()->schema()));
  ARROW_ASSIGN_OR_RAISE(out->task_writer_, out->sink_write_->SerializeTaskWriter());
  return out;
}

FragmentWrite::~FragmentWrite() {
  // The sink write aborts when destroyed uncommitted; then the context ends.
  sink_write_.reset();
  if (ctx_) {
    if (!committed_) ctx_->MarkFailed(arrow::Status::Cancelled("write was not committed"));
    ctx_->Finish();
  }
}

arrow::Result<WriteResult> FragmentWrite::Commit(
    const std::vector<std::shared_ptr<arrow::Table>>& task_results) {
  if (committed_ || !sink_write_) return arrow::Status::Invalid("the write was already committed");
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  for (const auto& table : task_results) {
    if (!table) return arrow::Status::Invalid("a null task result");
    arrow::TableBatchReader reader(*table);
    while (true) {
      std::shared_ptr<arrow::RecordBatch> batch;
      ARROW_RETURN_NOT_OK(reader.ReadNext(&batch));
      if (!batch) break;
      batches.push_back(std::move(batch));
    }
  }
  ARROW_ASSIGN_OR_RAISE(WriteResult result, sink_write_->Commit(batches));
  committed_ = true;
  return result;
}

}  // namespace sluice::exec
