#include "operators/join_operator.h"

#include <arrow/acero/exec_plan.h>
#include <arrow/acero/options.h>
#include <arrow/array/builder_primitive.h>
#include <arrow/compute/api_scalar.h>
#include <arrow/compute/api_vector.h>
#include <arrow/compute/cast.h>
#include <arrow/util/thread_pool.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/memory_budget.h"
#include "runtime/pipeline.h"
#include "operators/materialized_tasks.h"
#include "operators/hash_partitioner.h"

namespace sluice::operators {

namespace cp = arrow::compute;
namespace ac = arrow::acero;

namespace {

int64_t NanosSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              start)
      .count();
}

/// Same column names and types; nullability and metadata may differ (a pipeline's batches
/// need not repeat what its plan says about them).
bool SameColumns(const arrow::Schema& a, const arrow::Schema& b) {
  if (a.num_fields() != b.num_fields()) return false;
  for (int i = 0; i < a.num_fields(); ++i) {
    if (a.field(i)->name() != b.field(i)->name() ||
        !a.field(i)->type()->Equals(*b.field(i)->type())) {
      return false;
    }
  }
  return true;
}

/// The type a column that is not a key goes through Acero's join as: string and binary
/// views (as polars exports strings) as large strings and binary, which the join holds;
/// they are cast back to views afterwards.
std::shared_ptr<arrow::DataType> PassedType(const std::shared_ptr<arrow::DataType>& type) {
  switch (type->id()) {
    case arrow::Type::STRING_VIEW:
      return arrow::large_utf8();
    case arrow::Type::BINARY_VIEW:
      return arrow::large_binary();
    default:
      return type;
  }
}

/// Which input a column's values are taken from, for a column that may come from both (a
/// key named the same on both sides): the left key, except where left rows can be missing.
struct ValueSource {
  bool left = false;
  bool right = false;  // both: the left value, or the right one where that is null
};

ValueSource SourceOf(const plan::JoinOutputColumn& column, JoinType how) {
  if (column.left >= 0 && column.right >= 0) {
    if (how == JoinType::kOuter) return {true, true};
    if (how == JoinType::kRight) return {false, true};
    return {true, false};
  }
  return {column.left >= 0, column.right >= 0};
}

/// How one input is given to Acero: the columns it needs, each under a unique name (the
/// two sides may share names) and keys cast to their join type, plus a row number when
/// some needed columns have types Acero's join cannot hold; those are kept aside and
/// gathered by row number after the join.
struct SideLayout {
  const char* side = "";  // "left" or "right", for errors
  std::shared_ptr<arrow::Schema> input_schema;
  std::vector<int> passed;                                     // input columns given to Acero
  std::vector<std::shared_ptr<arrow::DataType>> passed_types;  // after the key casts
  std::vector<int> carried;                                    // input columns kept aside
  std::map<int, int> acero_position;    // passed input column -> Acero column
  std::map<int, int> carried_position;  // carried input column -> index in carried
  int row_number = -1;                  // Acero column of the row number
  std::shared_ptr<arrow::Schema> acero_schema;
  std::vector<arrow::FieldRef> keys;
};

SideLayout MakeSideLayout(const char* side, const std::shared_ptr<arrow::Schema>& schema,
                          const std::vector<std::string>& keys,
                          const std::vector<std::shared_ptr<arrow::DataType>>& key_types,
                          const std::vector<bool>& needed) {
  SideLayout layout;
  layout.side = side;
  layout.input_schema = schema;
  const std::string prefix = std::string(side) == "left" ? "l" : "r";
  std::map<int, std::shared_ptr<arrow::DataType>> key_type_of;
  for (size_t i = 0; i < keys.size(); ++i) {
    key_type_of[schema->GetFieldIndex(keys[i])] = key_types[i];
  }
  arrow::FieldVector fields;
  for (int j = 0; j < schema->num_fields(); ++j) {
    auto key = key_type_of.find(j);
    if (key == key_type_of.end() && !needed[j]) continue;
    const auto type = key != key_type_of.end() ? key->second : PassedType(schema->field(j)->type());
    if (key == key_type_of.end() && !plan::IsHashJoinType(*type)) {
      layout.carried_position[j] = static_cast<int>(layout.carried.size());
      layout.carried.push_back(j);
      continue;
    }
    layout.acero_position[j] = static_cast<int>(fields.size());
    layout.passed.push_back(j);
    layout.passed_types.push_back(type);
    fields.push_back(arrow::field(prefix + std::to_string(j), type));
  }
  if (!layout.carried.empty()) {
    layout.row_number = static_cast<int>(fields.size());
    fields.push_back(arrow::field(prefix + "row", arrow::uint64(), false));
  }
  for (const auto& k : keys) {
    layout.keys.emplace_back(prefix + std::to_string(schema->GetFieldIndex(k)));
  }
  layout.acero_schema = arrow::schema(std::move(fields));
  return layout;
}

/// Feeds one input to Acero as its SideLayout says, keeping the carried columns' chunks.
/// Acero reads it from one thread at a time; the kept chunks are read after the join.
class PreparedReader : public arrow::RecordBatchReader {
 public:
  PreparedReader(exec::ExecContext* ctx, std::shared_ptr<arrow::RecordBatchReader> input,
                 const SideLayout* layout, std::string label)
      : ctx_(ctx),
        input_(std::move(input)),
        layout_(layout),
        label_(std::move(label)),
        carried_chunks_(layout->carried.size()) {}

  std::shared_ptr<arrow::Schema> schema() const override { return layout_->acero_schema; }

  arrow::Status ReadNext(std::shared_ptr<arrow::RecordBatch>* out) override {
    *out = nullptr;
    std::shared_ptr<arrow::RecordBatch> batch;
    const auto wait_start = std::chrono::steady_clock::now();
    arrow::Status st = input_->ReadNext(&batch);
    wait_nanos_ += NanosSince(wait_start);
    if (!st.ok()) {
      input_error_ = st;
      return st;
    }
    if (!batch) return arrow::Status::OK();
    if (!SameColumns(*batch->schema(), *layout_->input_schema)) {
      return arrow::Status::TypeError(label_, ": a batch of the ", layout_->side,
                                      " input has the schema\n", batch->schema()->ToString(),
                                      "\nbut the join was planned for\n",
                                      layout_->input_schema->ToString());
    }
    arrow::ArrayVector columns;
    for (size_t i = 0; i < layout_->passed.size(); ++i) {
      const int j = layout_->passed[i];
      auto column = batch->column(j);
      if (!column->type()->Equals(*layout_->passed_types[i])) {
        auto cast = cp::Cast(*column, layout_->passed_types[i], cp::CastOptions::Safe(),
                             ctx_->compute_context());
        if (!cast.ok()) {
          return cast.status().WithMessage(label_, ": cannot convert the ", layout_->side,
                                           " column '", layout_->input_schema->field(j)->name(),
                                           "' to ", layout_->passed_types[i]->ToString(), ": ",
                                           cast.status().message());
        }
        column = *std::move(cast);
      }
      columns.push_back(std::move(column));
    }
    if (layout_->row_number >= 0) {
      for (size_t c = 0; c < layout_->carried.size(); ++c) {
        carried_chunks_[c].push_back(batch->column(layout_->carried[c]));
      }
      arrow::UInt64Builder rows(ctx_->pool());
      ARROW_RETURN_NOT_OK(rows.Reserve(batch->num_rows()));
      for (int64_t i = 0; i < batch->num_rows(); ++i) rows.UnsafeAppend(next_row_ + i);
      next_row_ += batch->num_rows();
      ARROW_ASSIGN_OR_RAISE(auto row_numbers, rows.Finish());
      columns.push_back(std::move(row_numbers));
    }
    *out = arrow::RecordBatch::Make(layout_->acero_schema, batch->num_rows(), std::move(columns));
    return arrow::Status::OK();
  }

  /// The carried column `c` of every batch read, in order (row number = position).
  std::shared_ptr<arrow::ChunkedArray> Carried(size_t c) const {
    const auto& type = layout_->input_schema->field(layout_->carried[c])->type();
    return std::make_shared<arrow::ChunkedArray>(carried_chunks_[c], type);
  }
  /// The error the input reader returned, if any: it reaches the caller unchanged.
  const arrow::Status& input_error() const { return input_error_; }
  /// Time spent waiting for the input reader.
  int64_t wait_nanos() const { return wait_nanos_; }

 private:
  exec::ExecContext* ctx_;
  std::shared_ptr<arrow::RecordBatchReader> input_;
  const SideLayout* layout_;
  std::string label_;
  std::vector<arrow::ArrayVector> carried_chunks_;
  uint64_t next_row_ = 0;
  arrow::Status input_error_;
  int64_t wait_nanos_ = 0;
};

ac::JoinType AceroJoinType(JoinType how) {
  switch (how) {
    case JoinType::kInner:
      return ac::JoinType::INNER;
    case JoinType::kLeft:
      return ac::JoinType::LEFT_OUTER;
    case JoinType::kRight:
      return ac::JoinType::RIGHT_OUTER;
    case JoinType::kOuter:
      return ac::JoinType::FULL_OUTER;
    case JoinType::kSemi:
      return ac::JoinType::LEFT_SEMI;
    case JoinType::kAnti:
      return ac::JoinType::LEFT_ANTI;
  }
  return ac::JoinType::INNER;
}

}  // namespace

arrow::Result<std::shared_ptr<arrow::Table>> JoinStreams(
    exec::ExecContext* ctx, std::shared_ptr<arrow::RecordBatchReader> left,
    std::shared_ptr<arrow::RecordBatchReader> right, const plan::JoinSpec& spec,
    exec::OperatorCounters* counters) {
  const auto start = std::chrono::steady_clock::now();
  const std::string label = plan::DescribeJoin(spec.how, spec.left_keys, spec.right_keys);
  for (const auto& [reader, schema, side] :
       {std::tuple{left.get(), spec.left_schema.get(), "left"},
        std::tuple{right.get(), spec.right_schema.get(), "right"}}) {
    if (!SameColumns(*reader->schema(), *schema)) {
      return arrow::Status::TypeError(label, ": the ", side, " input has the schema\n",
                                      reader->schema()->ToString(),
                                      "\nbut the join was planned for\n", schema->ToString());
    }
  }
  // The input columns each output column needs.
  std::vector<bool> left_needed(spec.left_schema->num_fields(), false);
  std::vector<bool> right_needed(spec.right_schema->num_fields(), false);
  for (const auto& column : spec.columns) {
    const ValueSource source = SourceOf(column, spec.how);
    if (source.left) left_needed[column.left] = true;
    if (source.right) right_needed[column.right] = true;
  }
  const SideLayout left_layout =
      MakeSideLayout("left", spec.left_schema, spec.left_keys, spec.key_types, left_needed);
  const SideLayout right_layout =
      MakeSideLayout("right", spec.right_schema, spec.right_keys, spec.key_types, right_needed);
  auto left_prepared = std::make_shared<PreparedReader>(ctx, std::move(left), &left_layout, label);
  auto right_prepared =
      std::make_shared<PreparedReader>(ctx, std::move(right), &right_layout, label);

  // Semi and anti joins output left columns only, and Acero wants no right ones then.
  const bool left_only = spec.how == JoinType::kSemi || spec.how == JoinType::kAnti;
  std::vector<arrow::FieldRef> left_output;
  std::vector<arrow::FieldRef> right_output;
  for (const auto& f : left_layout.acero_schema->fields()) left_output.emplace_back(f->name());
  if (!left_only) {
    for (const auto& f : right_layout.acero_schema->fields()) right_output.emplace_back(f->name());
  }
  // Null keys never match (SQL), so every key is compared with EQ rather than IS.
  ac::HashJoinNodeOptions join_options(
      AceroJoinType(spec.how), left_layout.keys, right_layout.keys, std::move(left_output),
      std::move(right_output),
      std::vector<ac::JoinKeyCmp>(spec.left_keys.size(), ac::JoinKeyCmp::EQ));
  // The readers block on their inputs (a left input is a running pipeline), so they get
  // threads of their own rather than Arrow's shared I/O threads: joins nested in each
  // other's inputs could otherwise take all of those and starve the readers below them.
  ARROW_ASSIGN_OR_RAISE(auto reader_threads, arrow::internal::ThreadPool::Make(2));
  ac::Declaration join{
      "hashjoin",
      {ac::Declaration{"record_batch_reader_source",
                       ac::RecordBatchReaderSourceNodeOptions(left_prepared, reader_threads.get())},
       ac::Declaration{"record_batch_reader_source", ac::RecordBatchReaderSourceNodeOptions(
                                                         right_prepared, reader_threads.get())}},
      std::move(join_options)};
  ac::QueryOptions query_options;
  query_options.memory_pool = ctx->pool();
  auto joined = ac::DeclarationToTable(std::move(join), query_options);
  // After a failure a read may still be running: let it end (and start no more) before the
  // readers' state is looked at.
  ARROW_UNUSED(reader_threads->Shutdown(/*wait=*/false));
  if (!joined.ok()) {
    // An input's own error (a user function's exception, a bad file) goes out as it came.
    if (!left_prepared->input_error().ok()) return left_prepared->input_error();
    if (!right_prepared->input_error().ok()) return right_prepared->input_error();
    const auto& message = joined.status().message();
    if (message.rfind(label, 0) == 0) return joined.status();
    return joined.status().WithMessage(label, ": ", message);
  }
  std::shared_ptr<arrow::Table> table = *std::move(joined);

  // Acero's columns: the left side's, then (unless semi or anti) the right side's.
  const int right_offset = left_layout.acero_schema->num_fields();
  auto values_of = [&](const SideLayout& layout, const PreparedReader& prepared, int offset,
                       int input_column) -> arrow::Result<std::shared_ptr<arrow::ChunkedArray>> {
    auto passed = layout.acero_position.find(input_column);
    if (passed != layout.acero_position.end()) return table->column(offset + passed->second);
    const auto c = static_cast<size_t>(layout.carried_position.at(input_column));
    // Row numbers are null where the side has no row, and so are the gathered values.
    auto gathered = cp::Take(prepared.Carried(c), table->column(offset + layout.row_number),
                             cp::TakeOptions::Defaults(), ctx->compute_context());
    if (!gathered.ok()) {
      const auto& field = layout.input_schema->field(input_column);
      return gathered.status().WithMessage(label, ": cannot carry the ", layout.side, " column '",
                                           field->name(), "' of type ", field->type()->ToString(),
                                           " through the join: ", gathered.status().message());
    }
    return gathered->chunked_array();
  };
  std::vector<std::shared_ptr<arrow::ChunkedArray>> columns;
  for (size_t i = 0; i < spec.columns.size(); ++i) {
    const auto& column = spec.columns[i];
    const ValueSource source = SourceOf(column, spec.how);
    std::shared_ptr<arrow::ChunkedArray> values;
    if (source.left) {
      ARROW_ASSIGN_OR_RAISE(values, values_of(left_layout, *left_prepared, 0, column.left));
    }
    if (source.right) {
      ARROW_ASSIGN_OR_RAISE(auto right_values,
                            values_of(right_layout, *right_prepared, right_offset, column.right));
      if (values) {
        ARROW_ASSIGN_OR_RAISE(
            arrow::Datum merged,
            cp::CallFunction("coalesce", {values, right_values}, ctx->compute_context()));
        values = merged.chunked_array();
      } else {
        values = std::move(right_values);
      }
    }
    const auto& type = spec.output_schema->field(static_cast<int>(i))->type();
    if (!values->type()->Equals(*type)) {
      ARROW_ASSIGN_OR_RAISE(arrow::Datum cast, cp::Cast(values, type, cp::CastOptions::Safe(),
                                                        ctx->compute_context()));
      values = cast.chunked_array();
    }
    columns.push_back(std::move(values));
  }
  auto result = arrow::Table::Make(spec.output_schema, std::move(columns), table->num_rows());
  if (counters) {
    // The join's own time: everything but waiting for the inputs.
    const int64_t waited = left_prepared->wait_nanos() + right_prepared->wait_nanos();
    counters->cpu_nanos.fetch_add(std::max<int64_t>(0, NanosSince(start) - waited));
  }
  return result;
}

namespace {

/// Partitions a join spills into: both sides are hash-partitioned on their keys the same
/// way, so the rows of a key meet in one partition pair, joined on its own.
constexpr int kJoinPartitions = 64;

/// The join's task source. The right input is collected first, within the operator's
/// reservation; when it outgrows it, both inputs are hash-partitioned (spilling) and each
/// partition pair joined on its own (a Grace hash join), each partition's output kept in
/// memory while the reservation allows and spilled otherwise, one task per partition.
class JoinTaskSource : public exec::TaskSource {
 public:
  JoinTaskSource(exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> left,
                 std::unique_ptr<exec::TaskSource> right, const plan::JoinNode& join,
                 exec::OperatorCounters* counters)
      : ctx_(ctx),
        left_(std::move(left)),
        right_(std::move(right)),
        options_(join.options()),
        left_schema_(join.inputs().at(0)->schema()),
        right_schema_(join.inputs().at(1)->schema()),
        label_(join.ToString()),
        counters_(counters),
        reservation_(ctx->budget(),
                     counters ? &counters->peak_reserved_bytes : nullptr) {
    if (join.spec()) planned_ = *join.spec();
  }

  arrow::Result<std::optional<exec::ScanTask>> NextTask() override {
    if (!joined_) {
      joined_ = true;
      ARROW_RETURN_NOT_OK(Join());
    }
    if (in_memory_tasks_) return in_memory_tasks_->NextTask();
    while (next_output_ < outputs_.size() && outputs_[next_output_].rows == 0) ++next_output_;
    if (next_output_ >= outputs_.size()) return std::nullopt;
    const spill::HashPartition* output = &outputs_[next_output_++];
    exec::ScanTask task;
    task.label = label_ + " partition";
    task.open = [output, pool = ctx_->pool()]() { return output->Open(pool); };
    return task;
  }

 private:
  arrow::Status Join() {
    ARROW_ASSIGN_OR_RAISE(auto right_runner, exec::PipelineRunner::Start(ctx_, std::move(right_)));
    std::vector<exec::BatchPtr> right_batches;
    std::unique_ptr<spill::HashPartitioner> right_partitions;
    while (true) {
      ARROW_ASSIGN_OR_RAISE(exec::BatchPtr batch, right_runner->Next());
      if (!batch) break;
      if (counters_) counters_->rows_in.fetch_add(batch->num_rows());
      if (!right_schema_) right_schema_ = batch->schema();
      if (!right_partitions && reservation_.TryGrow(exec::BatchReferencedBytes(*batch))) {
        right_batches.push_back(std::move(batch));
        continue;
      }
      if (!right_partitions) {
        // The build side outgrew the reservation: from here on, a Grace hash join.
        ARROW_ASSIGN_OR_RAISE(
            right_partitions,
            spill::HashPartitioner::Make(ctx_, right_schema_, options_.right_keys, kJoinPartitions,
                                         /*seed=*/0, counters_, "join-right"));
        for (const auto& buffered : right_batches)
          ARROW_RETURN_NOT_OK(right_partitions->Add(buffered));
        right_batches.clear();
        reservation_.Release();
      }
      ARROW_RETURN_NOT_OK(right_partitions->Add(batch));
    }
    right_runner.reset();
    if (!right_schema_) {
      return arrow::Status::Invalid(label_,
                                    ": the right input produced no rows, so its schema (from a "
                                    "user function) is unknown");
    }
    if (right_partitions) return GraceJoin(std::move(right_partitions));
    return InMemoryJoin(std::move(right_batches));
  }

  /// The right rows fit: they are built into one hash table and the left input streams
  /// through it.
  arrow::Status InMemoryJoin(std::vector<exec::BatchPtr> right_batches) {
    ARROW_ASSIGN_OR_RAISE(auto right_rows,
                          arrow::Table::FromRecordBatches(right_schema_, std::move(right_batches)));
    std::shared_ptr<arrow::Table> table;
    // Nothing can match an empty right side: an inner, right or semi join is empty then,
    // and the left input need not run at all.
    if (planned_ && right_rows->num_rows() == 0 &&
        (options_.how == JoinType::kInner || options_.how == JoinType::kRight ||
         options_.how == JoinType::kSemi)) {
      ARROW_ASSIGN_OR_RAISE(table, arrow::Table::MakeEmpty(planned_->output_schema, ctx_->pool()));
    } else {
      ARROW_ASSIGN_OR_RAISE(auto left_runner, exec::PipelineRunner::Start(ctx_, std::move(left_)));
      exec::BatchPtr left_first;
      ARROW_ASSIGN_OR_RAISE(auto spec, ResolveSpec(left_runner.get(), &left_first));
      auto left_reader = std::make_shared<exec::BatchStreamReader>(
          std::make_unique<exec::PrefixedBatchStream>(std::move(left_first),
                                                      std::move(left_runner)),
          spec.left_schema, counters_ ? &counters_->rows_in : nullptr);
      auto right_reader = std::make_shared<arrow::TableBatchReader>(right_rows);
      right_reader->set_chunksize(ctx_->config().batch_rows);
      ARROW_ASSIGN_OR_RAISE(table, JoinStreams(ctx_, std::move(left_reader),
                                               std::move(right_reader), spec, counters_));
    }
    auto rows = std::make_shared<MaterializedRows>(MaterializedRows{std::move(table), nullptr});
    in_memory_tasks_ = MakeMaterializedTaskSource(
        ctx_, "join", [rows]() -> arrow::Result<MaterializedRows> { return *rows; },
        [ctx = ctx_](int64_t total) { return BalancedRowsPerTask(*ctx, total); }, counters_);
    return arrow::Status::OK();
  }

  arrow::Status GraceJoin(std::unique_ptr<spill::HashPartitioner> right_partitions) {
    ARROW_ASSIGN_OR_RAISE(auto right_parts, right_partitions->Finish());
    ARROW_ASSIGN_OR_RAISE(auto left_runner, exec::PipelineRunner::Start(ctx_, std::move(left_)));
    exec::BatchPtr left_first;
    ARROW_ASSIGN_OR_RAISE(auto spec, ResolveSpec(left_runner.get(), &left_first));
    ARROW_ASSIGN_OR_RAISE(
        auto left_partitions,
        spill::HashPartitioner::Make(ctx_, left_schema_, options_.left_keys, kJoinPartitions,
                                     /*seed=*/0, counters_, "join-left"));
    exec::BatchPtr batch = std::move(left_first);
    while (true) {
      if (!batch) {
        ARROW_ASSIGN_OR_RAISE(batch, left_runner->Next());
      }
      if (!batch) break;
      if (counters_) counters_->rows_in.fetch_add(batch->num_rows());
      ARROW_RETURN_NOT_OK(left_partitions->Add(batch));
      batch = nullptr;
    }
    left_runner.reset();
    ARROW_ASSIGN_OR_RAISE(auto left_parts, left_partitions->Finish());
    outputs_.resize(kJoinPartitions);
    std::unique_ptr<spill::SpillWriter> writer;
    for (int p = 0; p < kJoinPartitions; ++p) {
      if (ctx_->cancelled()) return arrow::Status::Cancelled(label_, " cancelled");
      const spill::HashPartition& left_part = left_parts.partitions[p];
      const spill::HashPartition& right_part = right_parts.partitions[p];
      ARROW_ASSIGN_OR_RAISE(auto left_rows, left_part.Open(ctx_->pool()));
      ARROW_ASSIGN_OR_RAISE(auto right_rows, right_part.Open(ctx_->pool()));
      ARROW_ASSIGN_OR_RAISE(
          auto joined,
          JoinStreams(
              ctx_,
              std::make_shared<exec::BatchStreamReader>(std::move(left_rows), spec.left_schema),
              std::make_shared<exec::BatchStreamReader>(std::move(right_rows), spec.right_schema),
              spec, counters_));
      ARROW_RETURN_NOT_OK(KeepOutput(joined, &outputs_[p], p));
    }
    return arrow::Status::OK();
  }

  /// A partition's joined rows stay in memory while the reservation allows; otherwise
  /// they go to a spill file of their own.
  arrow::Status KeepOutput(const std::shared_ptr<arrow::Table>& joined, spill::HashPartition* out,
                           int partition) {
    std::vector<exec::BatchPtr> batches;
    arrow::TableBatchReader reader(*joined);
    reader.set_chunksize(ctx_->config().batch_rows);
    int64_t bytes = 0;
    while (true) {
      std::shared_ptr<arrow::RecordBatch> batch;
      ARROW_RETURN_NOT_OK(reader.ReadNext(&batch));
      if (!batch) break;
      bytes += exec::BatchReferencedBytes(*batch);
      batches.push_back(std::move(batch));
    }
    out->rows = joined->num_rows();
    out->memory_bytes = bytes;
    if (out->rows == 0) return arrow::Status::OK();
    if (reservation_.TryGrow(bytes)) {
      out->batches = std::move(batches);
      return arrow::Status::OK();
    }
    std::atomic<int64_t>* spilled = counters_ ? &counters_->spilled_bytes : nullptr;
    ARROW_ASSIGN_OR_RAISE(
        out->file,
        spill::WriteSpillFile(ctx_->spill_directory(), "join-output-p" + std::to_string(partition),
                              joined->schema(), batches, ctx_->pool(), spilled));
    return arrow::Status::OK();
  }

  /// The join as planned, or resolved now from the left input's first batch.
  arrow::Result<plan::JoinSpec> ResolveSpec(exec::PipelineRunner* left_runner,
                                            exec::BatchPtr* left_first) {
    if (!left_schema_) {
      ARROW_ASSIGN_OR_RAISE(*left_first, left_runner->Next());
      if (!*left_first) {
        return arrow::Status::Invalid(label_,
                                      ": the left input produced no rows, so its schema (from a "
                                      "user function) is unknown");
      }
      left_schema_ = (*left_first)->schema();
    }
    if (planned_) return *planned_;
    return plan::MakeJoinSpec(left_schema_, right_schema_, options_);
  }

  exec::ExecContext* ctx_;
  std::unique_ptr<exec::TaskSource> left_;
  std::unique_ptr<exec::TaskSource> right_;
  JoinOptions options_;
  std::shared_ptr<arrow::Schema> left_schema_;
  std::shared_ptr<arrow::Schema> right_schema_;
  std::string label_;
  exec::OperatorCounters* counters_;
  std::optional<plan::JoinSpec> planned_;
  exec::MemoryReservation reservation_;
  bool joined_ = false;
  std::unique_ptr<exec::TaskSource> in_memory_tasks_;
  std::vector<spill::HashPartition> outputs_;
  size_t next_output_ = 0;
};

}  // namespace

arrow::Result<std::unique_ptr<exec::TaskSource>> MakeJoinTaskSource(
    exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> left,
    std::unique_ptr<exec::TaskSource> right, const plan::JoinNode& join,
    exec::OperatorCounters* counters) {
  return std::make_unique<JoinTaskSource>(ctx, std::move(left), std::move(right), join, counters);
}

}  // namespace sluice::operators
