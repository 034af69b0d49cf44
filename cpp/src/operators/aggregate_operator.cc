#include "operators/aggregate_operator.h"

#include <arrow/acero/exec_plan.h>
#include <arrow/acero/options.h>
#include <arrow/compute/api_aggregate.h>
#include <arrow/compute/api_scalar.h>

#include "runtime/memory_budget.h"
#include "runtime/pipeline.h"
#include "operators/external_sorter.h"
#include "plan/logical_plan.h"
#include "operators/hash_partitioner.h"

namespace sluice::operators {

namespace cp = arrow::compute;
namespace ac = arrow::acero;

namespace {

/// Partitions rows fan out into when a group-by spills; an oversized partition is split
/// again into kSubPartitions with a new hash seed, up to kMaxDepth levels (a single huge
/// group cannot be split and is aggregated as it is).
constexpr int kPartitions = 64;
constexpr int kSubPartitions = 16;
constexpr int kMaxDepth = 3;

std::atomic<int64_t>* RowsIn(exec::OperatorCounters* counters) {
  return counters ? &counters->rows_in : nullptr;
}

/// One Acero aggregate: hash_ kernels for a group-by, scalar ones otherwise.
struct AcceroAggregate {
  std::string function;  // Acero name without the hash_ prefix
  std::shared_ptr<cp::FunctionOptions> options;
  std::string column;  // empty for count_all
  std::string output;
};

std::shared_ptr<cp::FunctionOptions> SkipNulls() {
  return std::make_shared<cp::ScalarAggregateOptions>(/*skip_nulls=*/true, /*min_count=*/1);
}

arrow::Result<AcceroAggregate> DirectKernel(const Aggregate& agg) {
  const auto& f = agg.function;
  if ((f == "count" || f == "count_all") && agg.column.empty()) {
    return AcceroAggregate{"count_all", nullptr, "", agg.output_name};
  }
  if (f == "count") {
    return AcceroAggregate{"count",
                           std::make_shared<cp::CountOptions>(cp::CountOptions::ONLY_VALID),
                           agg.column, agg.output_name};
  }
  if (f == "count_all") {
    return AcceroAggregate{"count", std::make_shared<cp::CountOptions>(cp::CountOptions::ALL),
                           agg.column, agg.output_name};
  }
  if (f == "count_distinct") {
    return AcceroAggregate{"count_distinct",
                           std::make_shared<cp::CountOptions>(cp::CountOptions::ONLY_VALID),
                           agg.column, agg.output_name};
  }
  if (f == "sum" || f == "mean" || f == "min" || f == "max" || f == "first" || f == "last") {
    return AcceroAggregate{f, SkipNulls(), agg.column, agg.output_name};
  }
  if (f == "std") {
    return AcceroAggregate{"stddev", std::make_shared<cp::VarianceOptions>(/*ddof=*/1), agg.column,
                           agg.output_name};
  }
  if (f == "var") {
    return AcceroAggregate{"variance", std::make_shared<cp::VarianceOptions>(/*ddof=*/1),
                           agg.column, agg.output_name};
  }
  return arrow::Status::Invalid("aggregate: unknown function '", f, "'");
}


/// The partial aggregates of a decomposable group-by (a mean is a sum and a count) and the
/// aggregates that merge partials into the final values.
void SplitAggregates(const std::vector<Aggregate>& aggs, std::vector<AcceroAggregate>* partial,
                     std::vector<AcceroAggregate>* merge) {
  for (size_t i = 0; i < aggs.size(); ++i) {
    const Aggregate& agg = aggs[i];
    const std::string name = plan::PartialAggregateName(i, "");
    if (agg.function == "mean") {
      partial->push_back({"sum", SkipNulls(), agg.column, name + "_sum"});
      partial->push_back({"count", std::make_shared<cp::CountOptions>(cp::CountOptions::ONLY_VALID),
                          agg.column, name + "_count"});
      merge->push_back({"sum", SkipNulls(), name + "_sum", name + "_sum"});
      merge->push_back({"sum", SkipNulls(), name + "_count", name + "_count"});
      continue;
    }
    AcceroAggregate direct = DirectKernel(agg).ValueOrDie();  // validated by the plan
    direct.output = name;
    partial->push_back(direct);
    // Counts add up; sums, minima, maxima, firsts and lasts of partials are the results.
    const bool count = agg.function == "count" || agg.function == "count_all";
    merge->push_back({count ? "sum" : agg.function, SkipNulls(), name, name});
  }
}

arrow::Result<std::shared_ptr<arrow::Table>> RunAcero(
    exec::ExecContext* ctx, std::shared_ptr<arrow::RecordBatchReader> rows,
    const std::vector<std::string>& keys, const std::vector<AcceroAggregate>& aggs, bool ordered) {
  const std::string prefix = keys.empty() ? "" : "hash_";
  std::vector<cp::Aggregate> acero_aggs;
  for (const auto& agg : aggs) {
    std::vector<arrow::FieldRef> targets;
    if (!agg.column.empty()) targets.emplace_back(agg.column);
    acero_aggs.emplace_back(prefix + agg.function, agg.options, std::move(targets), agg.output);
  }
  std::vector<arrow::FieldRef> key_refs(keys.begin(), keys.end());
  ac::Declaration plan = ac::Declaration::Sequence({
      {"record_batch_reader_source", ac::RecordBatchReaderSourceNodeOptions(std::move(rows))},
      {"aggregate", ac::AggregateNodeOptions(std::move(acero_aggs), std::move(key_refs))},
  });
  ac::QueryOptions options;
  // first/last depend on arrival order, so they run single-threaded.
  options.use_threads = !ordered;
  options.memory_pool = ctx->pool();
  return ac::DeclarationToTable(std::move(plan), options);
}

/// Everything one group-by execution needs, resolved against the input schema.
class GroupBy {
 public:
  GroupBy(exec::ExecContext* ctx, std::shared_ptr<arrow::Schema> input_schema,
          std::vector<std::string> keys, std::vector<Aggregate> aggregates,
          exec::OperatorCounters* counters)
      : ctx_(ctx),
        input_schema_(std::move(input_schema)),
        keys_(std::move(keys)),
        aggregates_(std::move(aggregates)),
        counters_(counters) {}

  arrow::Status Resolve() {
    arrow::FieldVector fields;
    for (const auto& k : keys_) {
      auto field = input_schema_->GetFieldByName(k);
      if (!field) return arrow::Status::KeyError("groupby: no column named '", k, "'");
      fields.push_back(field);
    }
    for (auto& agg : aggregates_) {
      ARROW_ASSIGN_OR_RAISE(auto field, plan::AggregateOutputField(agg, *input_schema_));
      agg.output_name = field->name();
      fields.push_back(field);
      ordered_ |= agg.function == "first" || agg.function == "last";
      decomposable_ &= plan::CombinesFromPartials(agg);
    }
    output_schema_ = arrow::schema(fields);
    return arrow::Status::OK();
  }

  arrow::Result<SortedOutput> Run(exec::BatchStream* input) {
    if (keys_.empty()) {
      // One group: memory does not grow with the input (count_distinct's set aside).
      ARROW_ASSIGN_OR_RAISE(auto direct, DirectKernels());
      auto reader =
          std::make_shared<exec::BatchStreamReader>(input, input_schema_, RowsIn(counters_));
      ARROW_ASSIGN_OR_RAISE(auto table, RunAcero(ctx_, reader, {}, direct, ordered_));
      ARROW_ASSIGN_OR_RAISE(table, ToOutputTypes(table));
      SortedOutput output;
      output.total_rows = table->num_rows();
      output.in_memory = MaterializedRows{std::move(table), nullptr};
      return output;
    }
    ARROW_ASSIGN_OR_RAISE(sorter_,
                          ExternalSorter::Make(ctx_, output_schema_, KeyOrder(), counters_));
    if (decomposable_) {
      ARROW_RETURN_NOT_OK(RunPartial(input));
    } else {
      ARROW_RETURN_NOT_OK(RunPartitioned(input));
    }
    return sorter_->Finish();
  }

 private:
  arrow::Result<std::vector<AcceroAggregate>> DirectKernels() const {
    std::vector<AcceroAggregate> direct;
    for (const auto& agg : aggregates_) {
      ARROW_ASSIGN_OR_RAISE(auto kernel, DirectKernel(agg));
      direct.push_back(std::move(kernel));
    }
    return direct;
  }

  std::vector<SortKey> KeyOrder() const {
    std::vector<SortKey> order;
    for (const auto& k : keys_) order.push_back(SortKey{k, false, false});
    return order;
  }

  /// Streams the input through Acero in chunks with partial aggregates. A chunk ends when
  /// its allocations grow by a quarter of the budget (the hash table is what grows); with
  /// few groups that never happens and the one chunk's partials are the result. With
  /// more chunks, their partials are hash-partitioned (spilling as needed) and merged
  /// partition by partition.
  arrow::Status RunPartial(exec::BatchStream* input) {
    std::vector<AcceroAggregate> partial, merge;
    SplitAggregates(aggregates_, &partial, &merge);
    const int64_t limit = ctx_->config().memory_limit_bytes;
    std::unique_ptr<spill::HashPartitioner> partitioner;
    while (true) {
      // What the chunk's hash table adds to the allocations since it started is what it
      // costs; a quarter of the budget, or the whole budget in all, ends it.
      // (The execution's own allocations for the chunk; the session's for the whole.)
      exec::MemoryBudget* budget = ctx_->budget();
      const int64_t start = budget->bytes_allocated();
      auto over_budget = [limit, start, budget](int64_t batches) {
        const int64_t now = budget->bytes_allocated();
        return batches >= 4 && (now - start > limit / 4 || !budget->HasRoom(1.0));
      };
      auto reader = std::make_shared<exec::BatchStreamReader>(input, input_schema_,
                                                              RowsIn(counters_), over_budget);
      ARROW_ASSIGN_OR_RAISE(auto chunk, RunAcero(ctx_, reader, keys_, partial, ordered_));
      if (!partitioner && reader->stream_ended()) {
        // Everything in one chunk: the partials are the final values.
        return AddFinal(chunk);
      }
      if (!partitioner) {
        ARROW_ASSIGN_OR_RAISE(
            partitioner, spill::HashPartitioner::Make(ctx_, chunk->schema(), keys_, kPartitions,
                                                      /*seed=*/0, counters_, "groupby-partials"));
      }
      ARROW_RETURN_NOT_OK(AddTable(partitioner.get(), *chunk));
      if (reader->stream_ended()) break;
      if (ctx_->cancelled()) return arrow::Status::Cancelled("groupby cancelled");
    }
    ARROW_ASSIGN_OR_RAISE(auto partitions, partitioner->Finish());
    for (const auto& partition : partitions.partitions) {
      if (partition.rows == 0) continue;
      ARROW_ASSIGN_OR_RAISE(auto rows, partition.Open(ctx_->pool()));
      ARROW_RETURN_NOT_OK(AggregatePartition(rows.get(), partitioner->schema(), merge,
                                             /*depth=*/1, partition.memory_bytes));
    }
    return arrow::Status::OK();
  }

  /// For aggregates that do not decompose: the raw rows are hash-partitioned (in memory
  /// while they fit) and each partition aggregated on its own.
  arrow::Status RunPartitioned(exec::BatchStream* input) {
    ARROW_ASSIGN_OR_RAISE(auto direct, DirectKernels());
    ARROW_ASSIGN_OR_RAISE(auto partitioner,
                          spill::HashPartitioner::Make(ctx_, input_schema_, keys_, kPartitions,
                                                       /*seed=*/0, counters_, "groupby-rows"));
    while (true) {
      ARROW_ASSIGN_OR_RAISE(exec::BatchPtr batch, input->Next());
      if (!batch) break;
      if (counters_) counters_->rows_in.fetch_add(batch->num_rows());
      ARROW_RETURN_NOT_OK(partitioner->Add(batch));
    }
    ARROW_ASSIGN_OR_RAISE(auto partitions, partitioner->Finish());
    if (!partitions.spilled) {
      // All in memory: one aggregation over every partition's rows at once.
      std::vector<exec::BatchPtr> all;
      for (auto& partition : partitions.partitions) {
        for (auto& batch : partition.batches) all.push_back(std::move(batch));
      }
      partitions.partitions.clear();
      exec::FunctionBatchStream rows(
          [&all, next = size_t{0}]() mutable -> arrow::Result<exec::BatchPtr> {
            if (next >= all.size()) return nullptr;
            return std::move(all[next++]);
          });
      return AggregatePartition(&rows, input_schema_, direct, kMaxDepth, 0, /*count_rows=*/false);
    }
    for (const auto& partition : partitions.partitions) {
      if (partition.rows == 0) continue;
      ARROW_ASSIGN_OR_RAISE(auto rows, partition.Open(ctx_->pool()));
      ARROW_RETURN_NOT_OK(AggregatePartition(rows.get(), input_schema_, direct, /*depth=*/1,
                                             partition.memory_bytes, /*count_rows=*/false));
    }
    return arrow::Status::OK();
  }

  /// Aggregates one partition's rows (partials or raw rows, per `aggs`) into the sorter,
  /// splitting it further first when it is too large to aggregate within the budget.
  arrow::Status AggregatePartition(exec::BatchStream* rows,
                                   const std::shared_ptr<arrow::Schema>& schema,
                                   const std::vector<AcceroAggregate>& aggs, int depth,
                                   int64_t memory_bytes, bool count_rows = false) {
    if (ctx_->cancelled()) return arrow::Status::Cancelled("groupby cancelled");
    if (depth < kMaxDepth && memory_bytes > ctx_->config().memory_limit_bytes / 4) {
      ARROW_ASSIGN_OR_RAISE(auto partitioner, spill::HashPartitioner::Make(
                                                  ctx_, schema, keys_, kSubPartitions,
                                                  /*seed=*/depth, counters_, "groupby-split"));
      while (true) {
        ARROW_ASSIGN_OR_RAISE(exec::BatchPtr batch, rows->Next());
        if (!batch) break;
        ARROW_RETURN_NOT_OK(partitioner->Add(batch));
      }
      ARROW_ASSIGN_OR_RAISE(auto parts, partitioner->Finish());
      for (const auto& part : parts.partitions) {
        if (part.rows == 0) continue;
        ARROW_ASSIGN_OR_RAISE(auto part_rows, part.Open(ctx_->pool()));
        ARROW_RETURN_NOT_OK(AggregatePartition(part_rows.get(), schema, aggs, depth + 1,
                                               parts.spilled ? part.memory_bytes : 0, count_rows));
      }
      return arrow::Status::OK();
    }
    auto reader = std::make_shared<exec::BatchStreamReader>(
        rows, schema, count_rows ? RowsIn(counters_) : nullptr);
    ARROW_ASSIGN_OR_RAISE(auto table, RunAcero(ctx_, reader, keys_, aggs, ordered_));
    return AddFinal(table);
  }

  arrow::Status AddTable(spill::HashPartitioner* partitioner, const arrow::Table& table) {
    arrow::TableBatchReader batches(table);
    while (true) {
      std::shared_ptr<arrow::RecordBatch> batch;
      ARROW_RETURN_NOT_OK(batches.ReadNext(&batch));
      if (!batch) return arrow::Status::OK();
      ARROW_RETURN_NOT_OK(partitioner->Add(batch));
    }
  }

  /// Final values (from partials when the aggregates were split) into the sorter.
  arrow::Status AddFinal(const std::shared_ptr<arrow::Table>& acero_output) {
    ARROW_ASSIGN_OR_RAISE(auto table, decomposable_ ? FromPartials(acero_output) : acero_output);
    ARROW_ASSIGN_OR_RAISE(table, ToOutputTypes(table));
    arrow::TableBatchReader batches(*table);
    while (true) {
      std::shared_ptr<arrow::RecordBatch> batch;
      ARROW_RETURN_NOT_OK(batches.ReadNext(&batch));
      if (!batch) return arrow::Status::OK();
      ARROW_RETURN_NOT_OK(sorter_->Add(batch));
    }
  }

  /// Keys, then one column per aggregate: a mean is its partial sum over its count.
  arrow::Result<std::shared_ptr<arrow::Table>> FromPartials(
      const std::shared_ptr<arrow::Table>& t) {
    std::vector<std::shared_ptr<arrow::ChunkedArray>> columns;
    for (const auto& k : keys_) columns.push_back(t->GetColumnByName(k));
    for (size_t i = 0; i < aggregates_.size(); ++i) {
      const std::string name = plan::PartialAggregateName(i, "");
      if (aggregates_[i].function != "mean") {
        columns.push_back(t->GetColumnByName(name));
        continue;
      }
      ARROW_ASSIGN_OR_RAISE(arrow::Datum sum,
                            cp::Cast(t->GetColumnByName(name + "_sum"), arrow::float64(),
                                     cp::CastOptions::Safe(), ctx_->compute_context()));
      ARROW_ASSIGN_OR_RAISE(arrow::Datum count,
                            cp::Cast(t->GetColumnByName(name + "_count"), arrow::float64(),
                                     cp::CastOptions::Safe(), ctx_->compute_context()));
      ARROW_ASSIGN_OR_RAISE(arrow::Datum mean,
                            cp::CallFunction("divide", {sum, count}, ctx_->compute_context()));
      columns.push_back(mean.chunked_array());
    }
    arrow::FieldVector fields;
    for (size_t c = 0; c < columns.size(); ++c) {
      fields.push_back(
          arrow::field(output_schema_->field(static_cast<int>(c))->name(), columns[c]->type()));
    }
    return arrow::Table::Make(arrow::schema(fields), columns, t->num_rows());
  }

  /// Sum/min/max keep Arrow's types; make them match the planned schema.
  arrow::Result<std::shared_ptr<arrow::Table>> ToOutputTypes(
      const std::shared_ptr<arrow::Table>& table) {
    std::vector<std::shared_ptr<arrow::ChunkedArray>> columns;
    for (int i = 0; i < table->num_columns(); ++i) {
      auto column = table->column(i);
      const auto& type = output_schema_->field(i)->type();
      if (!column->type()->Equals(type)) {
        ARROW_ASSIGN_OR_RAISE(arrow::Datum cast, cp::Cast(column, type, cp::CastOptions::Safe(),
                                                          ctx_->compute_context()));
        column = cast.chunked_array();
      }
      columns.push_back(column);
    }
    return arrow::Table::Make(output_schema_, columns, table->num_rows());
  }

  exec::ExecContext* ctx_;
  std::shared_ptr<arrow::Schema> input_schema_;
  std::vector<std::string> keys_;
  std::vector<Aggregate> aggregates_;
  exec::OperatorCounters* counters_;
  std::shared_ptr<arrow::Schema> output_schema_;
  bool ordered_ = false;
  bool decomposable_ = true;
  std::unique_ptr<ExternalSorter> sorter_;
};

}  // namespace

arrow::Result<std::unique_ptr<exec::TaskSource>> MakeAggregateTaskSource(
    exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> input,
    std::shared_ptr<arrow::Schema> input_schema, std::vector<std::string> keys,
    std::vector<Aggregate> aggregates, exec::OperatorCounters* counters) {
  auto shared_input = std::make_shared<std::unique_ptr<exec::TaskSource>>(std::move(input));
  auto produce = [=]() -> arrow::Result<SortedOutput> {
    ARROW_ASSIGN_OR_RAISE(auto runner, exec::PipelineRunner::Start(ctx, std::move(*shared_input)));
    std::shared_ptr<arrow::Schema> schema = input_schema;
    exec::BatchPtr first;
    if (!schema) {
      ARROW_ASSIGN_OR_RAISE(first, runner->Next());
      if (!first) {
        return arrow::Status::Invalid(
            "groupby: the input produced no rows, so its schema (from a user function) is unknown");
      }
      schema = first->schema();
    }
    exec::PrefixedBatchStream rows(std::move(first), std::move(runner));
    GroupBy group_by(ctx, schema, keys, aggregates, counters);
    ARROW_RETURN_NOT_OK(group_by.Resolve());
    return group_by.Run(&rows);
  };
  return MakeSortedOutputTaskSource(ctx, "aggregate", std::move(produce), counters);
}

}  // namespace sluice::operators
