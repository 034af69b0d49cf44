#include "operators/aggregate_operator.h"

#include <arrow/acero/exec_plan.h>
#include <arrow/acero/options.h>
#include <arrow/compute/api_aggregate.h>
#include <arrow/compute/api_vector.h>

#include "exec/pipeline.h"
#include "operators/materialized_tasks.h"
#include "plan/logical_plan.h"

namespace sluice::operators {

namespace cp = arrow::compute;
namespace ac = arrow::acero;

namespace {

/// Feeds a pipeline's ordered output to Acero, counting rows on the way.
class RunnerReader : public arrow::RecordBatchReader {
 public:
  RunnerReader(std::unique_ptr<exec::PipelineRunner> runner, std::shared_ptr<arrow::Schema> schema,
               exec::BatchPtr first, exec::OperatorCounters* counters)
      : runner_(std::move(runner)),
        schema_(std::move(schema)),
        first_(std::move(first)),
        counters_(counters) {}
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }
  arrow::Status ReadNext(std::shared_ptr<arrow::RecordBatch>* out) override {
    if (first_) {
      *out = std::move(first_);
    } else {
      ARROW_ASSIGN_OR_RAISE(*out, runner_->Next());
    }
    if (*out && counters_) counters_->rows_in.fetch_add((*out)->num_rows());
    return arrow::Status::OK();
  }

 private:
  std::unique_ptr<exec::PipelineRunner> runner_;
  std::shared_ptr<arrow::Schema> schema_;
  exec::BatchPtr first_;
  exec::OperatorCounters* counters_;
};

struct KernelChoice {
  std::string name;
  std::shared_ptr<cp::FunctionOptions> options;
};

arrow::Result<KernelChoice> ChooseKernel(const Aggregate& agg, bool grouped) {
  const std::string prefix = grouped ? "hash_" : "";
  const auto& f = agg.function;
  if ((f == "count" || f == "count_all") && agg.column.empty()) {
    return KernelChoice{prefix + "count_all", nullptr};
  }
  if (f == "count") {
    return KernelChoice{prefix + "count",
                        std::make_shared<cp::CountOptions>(cp::CountOptions::ONLY_VALID)};
  }
  if (f == "count_all") {
    return KernelChoice{prefix + "count",
                        std::make_shared<cp::CountOptions>(cp::CountOptions::ALL)};
  }
  if (f == "count_distinct") {
    return KernelChoice{prefix + "count_distinct",
                        std::make_shared<cp::CountOptions>(cp::CountOptions::ONLY_VALID)};
  }
  if (f == "sum" || f == "mean") {
    return KernelChoice{prefix + f, std::make_shared<cp::ScalarAggregateOptions>(
                                        /*skip_nulls=*/true, /*min_count=*/1)};
  }
  if (f == "min" || f == "max") {
    return KernelChoice{prefix + f, std::make_shared<cp::ScalarAggregateOptions>(true, 1)};
  }
  if (f == "std")
    return KernelChoice{prefix + "stddev", std::make_shared<cp::VarianceOptions>(/*ddof=*/1)};
  if (f == "var")
    return KernelChoice{prefix + "variance", std::make_shared<cp::VarianceOptions>(1)};
  if (f == "first" || f == "last") {
    return KernelChoice{prefix + f, std::make_shared<cp::ScalarAggregateOptions>(true, 1)};
  }
  return arrow::Status::Invalid("aggregate: unknown function '", f, "'");
}

}  // namespace

arrow::Result<std::unique_ptr<exec::TaskSource>> MakeAggregateTaskSource(
    exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> input,
    std::shared_ptr<arrow::Schema> input_schema, std::vector<std::string> keys,
    std::vector<Aggregate> aggregates, exec::OperatorCounters* counters) {
  auto shared_input = std::make_shared<std::unique_ptr<exec::TaskSource>>(std::move(input));
  auto produce = [=]() -> arrow::Result<MaterializedRows> {
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
    std::vector<Aggregate> resolved = aggregates;
    std::vector<cp::Aggregate> acero_aggs;
    const bool grouped = !keys.empty();
    for (auto& agg : resolved) {
      ARROW_ASSIGN_OR_RAISE(auto field, plan::AggregateOutputField(agg, *schema));
      agg.output_name = field->name();
      ARROW_ASSIGN_OR_RAISE(auto kernel, ChooseKernel(agg, grouped));
      std::vector<arrow::FieldRef> targets;
      if (!agg.column.empty()) targets.emplace_back(agg.column);
      acero_aggs.emplace_back(kernel.name, kernel.options, std::move(targets), agg.output_name);
    }
    std::vector<arrow::FieldRef> key_refs;
    for (const auto& k : keys) {
      if (schema->GetFieldIndex(k) < 0) {
        return arrow::Status::KeyError("groupby: no column named '", k, "'");
      }
      key_refs.emplace_back(k);
    }
    auto reader =
        std::make_shared<RunnerReader>(std::move(runner), schema, std::move(first), counters);
    ac::Declaration plan = ac::Declaration::Sequence({
        {"record_batch_reader_source", ac::RecordBatchReaderSourceNodeOptions(reader)},
        {"aggregate", ac::AggregateNodeOptions(std::move(acero_aggs), std::move(key_refs))},
    });
    // first/last depend on arrival order, so they run single-threaded.
    bool ordered = false;
    for (const auto& a : resolved) ordered |= (a.function == "first" || a.function == "last");
    ac::QueryOptions options;
    options.use_threads = !ordered;
    options.memory_pool = ctx->pool();
    ARROW_ASSIGN_OR_RAISE(auto table, ac::DeclarationToTable(std::move(plan), options));
    // Sum/min/max keep Arrow's types; make them match the planned schema.
    arrow::FieldVector fields;
    for (const auto& k : keys) fields.push_back(schema->GetFieldByName(k));
    for (const auto& agg : resolved) {
      ARROW_ASSIGN_OR_RAISE(auto field, plan::AggregateOutputField(agg, *schema));
      fields.push_back(field);
    }
    auto target = arrow::schema(fields);
    std::vector<std::shared_ptr<arrow::ChunkedArray>> columns;
    for (int i = 0; i < table->num_columns(); ++i) {
      auto column = table->column(i);
      if (!column->type()->Equals(target->field(i)->type())) {
        ARROW_ASSIGN_OR_RAISE(arrow::Datum cast,
                              cp::Cast(column, target->field(i)->type(), cp::CastOptions::Safe(),
                                       ctx->compute_context()));
        column = cast.chunked_array();
      }
      columns.push_back(column);
    }
    table = arrow::Table::Make(target, columns, table->num_rows());
    if (!keys.empty() && table->num_rows() > 1) {
      std::vector<cp::SortKey> sort_keys;
      for (const auto& k : keys)
        sort_keys.emplace_back(arrow::FieldRef(k), cp::SortOrder::Ascending,
                               cp::NullPlacement::AtEnd);
      ARROW_ASSIGN_OR_RAISE(
          auto indices,
          cp::SortIndices(arrow::Datum(table), cp::SortOptions(sort_keys), ctx->compute_context()));
      return MaterializedRows{std::move(table), std::move(indices)};
    }
    return MaterializedRows{std::move(table), nullptr};
  };
  auto rows_per_task = [](int64_t) -> int64_t { return 1 << 20; };
  return MakeMaterializedTaskSource(ctx, "aggregate", std::move(produce), rows_per_task, counters);
}

}  // namespace sluice::operators
