#pragma once

#include <arrow/compute/expression.h>
#include <arrow/result.h>
#include <arrow/type.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "plan/sink_spec.h"
#include "plan/source_spec.h"
#include "sluice/dataset.h"
#include "sluice/udf.h"

namespace sluice::plan {

enum class NodeKind {
  kSource,
  kFilter,
  kProject,
  kMapBatches,
  kLimit,
  kSort,
  kAggregate,
  kRepartition,
  kUnion,
  kJoin,
  kWrite
};

class PlanNode;
using PlanNodePtr = std::shared_ptr<const PlanNode>;

/// A node of the logical plan. Nodes are immutable and validated by their Make(); the
/// optimizer builds new trees instead of editing old ones. `schema()` is null only
/// downstream of a user function whose output schema is unknown until it runs.
class PlanNode {
 public:
  virtual ~PlanNode() = default;
  NodeKind kind() const { return kind_; }
  const std::vector<PlanNodePtr>& inputs() const { return inputs_; }
  const PlanNodePtr& input() const { return inputs_.at(0); }
  const std::shared_ptr<arrow::Schema>& schema() const { return schema_; }
  /// One line for explain().
  virtual std::string ToString() const = 0;
  /// The same node over other inputs (same count), re-validated.
  virtual arrow::Result<PlanNodePtr> WithInputs(std::vector<PlanNodePtr> inputs) const = 0;

 protected:
  PlanNode(NodeKind kind, std::vector<PlanNodePtr> inputs, std::shared_ptr<arrow::Schema> schema)
      : kind_(kind), inputs_(std::move(inputs)), schema_(std::move(schema)) {}

 private:
  NodeKind kind_;
  std::vector<PlanNodePtr> inputs_;
  std::shared_ptr<arrow::Schema> schema_;
};

class SourceNode : public PlanNode {
 public:
  static arrow::Result<PlanNodePtr> Make(std::shared_ptr<const SourceSpec> spec,
                                         Pushdown pushdown = {});
  const std::shared_ptr<const SourceSpec>& spec() const { return spec_; }
  const Pushdown& pushdown() const { return pushdown_; }
  std::string ToString() const override;
  arrow::Result<PlanNodePtr> WithInputs(std::vector<PlanNodePtr> inputs) const override;

 private:
  SourceNode(std::shared_ptr<const SourceSpec> spec, Pushdown pushdown,
             std::shared_ptr<arrow::Schema> schema);
  std::shared_ptr<const SourceSpec> spec_;
  Pushdown pushdown_;
};

class FilterNode : public PlanNode {
 public:
  static arrow::Result<PlanNodePtr> Make(PlanNodePtr input, arrow::compute::Expression predicate);
  const arrow::compute::Expression& predicate() const { return predicate_; }
  std::string ToString() const override;
  arrow::Result<PlanNodePtr> WithInputs(std::vector<PlanNodePtr> inputs) const override;

 private:
  FilterNode(PlanNodePtr input, arrow::compute::Expression predicate);
  arrow::compute::Expression predicate_;
};

class ProjectNode : public PlanNode {
 public:
  static arrow::Result<PlanNodePtr> Make(PlanNodePtr input,
                                         std::vector<arrow::compute::Expression> exprs,
                                         std::vector<std::string> names);
  const std::vector<arrow::compute::Expression>& exprs() const { return exprs_; }
  const std::vector<std::string>& names() const { return names_; }
  std::string ToString() const override;
  arrow::Result<PlanNodePtr> WithInputs(std::vector<PlanNodePtr> inputs) const override;

 private:
  ProjectNode(PlanNodePtr input, std::vector<arrow::compute::Expression> exprs,
              std::vector<std::string> names, std::shared_ptr<arrow::Schema> schema);
  std::vector<arrow::compute::Expression> exprs_;
  std::vector<std::string> names_;
};

class MapBatchesNode : public PlanNode {
 public:
  static arrow::Result<PlanNodePtr> Make(PlanNodePtr input, BatchFunctionFactory factory,
                                         MapBatchesOptions options);
  const BatchFunctionFactory& factory() const { return factory_; }
  const MapBatchesOptions& options() const { return options_; }
  std::string ToString() const override;
  arrow::Result<PlanNodePtr> WithInputs(std::vector<PlanNodePtr> inputs) const override;

 private:
  MapBatchesNode(PlanNodePtr input, BatchFunctionFactory factory, MapBatchesOptions options);
  BatchFunctionFactory factory_;
  MapBatchesOptions options_;
};

class LimitNode : public PlanNode {
 public:
  static arrow::Result<PlanNodePtr> Make(PlanNodePtr input, int64_t limit);
  int64_t limit() const { return limit_; }
  std::string ToString() const override;
  arrow::Result<PlanNodePtr> WithInputs(std::vector<PlanNodePtr> inputs) const override;

 private:
  LimitNode(PlanNodePtr input, int64_t limit);
  int64_t limit_;
};

class SortNode : public PlanNode {
 public:
  static arrow::Result<PlanNodePtr> Make(PlanNodePtr input, std::vector<SortKey> keys);
  const std::vector<SortKey>& keys() const { return keys_; }
  std::string ToString() const override;
  arrow::Result<PlanNodePtr> WithInputs(std::vector<PlanNodePtr> inputs) const override;

 private:
  SortNode(PlanNodePtr input, std::vector<SortKey> keys);
  std::vector<SortKey> keys_;
};

class AggregateNode : public PlanNode {
 public:
  static arrow::Result<PlanNodePtr> Make(PlanNodePtr input, std::vector<std::string> keys,
                                         std::vector<Aggregate> aggregates);
  const std::vector<std::string>& keys() const { return keys_; }
  /// Output names filled in.
  const std::vector<Aggregate>& aggregates() const { return aggregates_; }
  std::string ToString() const override;
  arrow::Result<PlanNodePtr> WithInputs(std::vector<PlanNodePtr> inputs) const override;

 private:
  AggregateNode(PlanNodePtr input, std::vector<std::string> keys, std::vector<Aggregate> aggregates,
                std::shared_ptr<arrow::Schema> schema);
  std::vector<std::string> keys_;
  std::vector<Aggregate> aggregates_;
};

class RepartitionNode : public PlanNode {
 public:
  /// Without `keys`: the rows in order, cut into `num_blocks` equal blocks. With keys:
  /// block i holds the rows whose keys hash to i, so equal keys share a block.
  static arrow::Result<PlanNodePtr> Make(PlanNodePtr input, int num_blocks,
                                         std::vector<std::string> keys = {});
  int num_blocks() const { return num_blocks_; }
  const std::vector<std::string>& keys() const { return keys_; }
  std::string ToString() const override;
  arrow::Result<PlanNodePtr> WithInputs(std::vector<PlanNodePtr> inputs) const override;

 private:
  RepartitionNode(PlanNodePtr input, int num_blocks, std::vector<std::string> keys);
  int num_blocks_;
  std::vector<std::string> keys_;
};

class UnionNode : public PlanNode {
 public:
  static arrow::Result<PlanNodePtr> Make(std::vector<PlanNodePtr> inputs);
  std::string ToString() const override;
  arrow::Result<PlanNodePtr> WithInputs(std::vector<PlanNodePtr> inputs) const override;

 private:
  UnionNode(std::vector<PlanNodePtr> inputs, std::shared_ptr<arrow::Schema> schema);
};

/// Whether Acero's hash join holds values of `type` as they are, as a key or as a column
/// passed through; the join executor carries columns of other types around it.
bool IsHashJoinType(const arrow::DataType& type);

/// One output column of a join and the input column(s) its values come from.
struct JoinOutputColumn {
  std::string name;
  /// Index into the left input's schema, or -1.
  int left = -1;
  /// Index into the right input's schema, or -1. With `left` also set, the column is a key
  /// of the same name on both sides, shown once: the left key where the left row is
  /// present, otherwise the right key.
  int right = -1;
};

/// A join resolved against its inputs' schemas: everything the executor needs to produce
/// exactly `output_schema`.
struct JoinSpec {
  JoinType how = JoinType::kInner;
  std::vector<std::string> left_keys;
  std::vector<std::string> right_keys;
  /// The type each key pair is compared as; keys of another type are cast to it first.
  std::vector<std::shared_ptr<arrow::DataType>> key_types;
  std::shared_ptr<arrow::Schema> left_schema;
  std::shared_ptr<arrow::Schema> right_schema;
  /// In output order: the left columns, then the right ones.
  std::vector<JoinOutputColumn> columns;
  std::shared_ptr<arrow::Schema> output_schema;
};

/// Resolves a join of inputs with schemas `left` and `right`: checks the keys exist and
/// have comparable types, and names the output columns. `right_names` (right column ->
/// output name) fixes the names chosen for right columns earlier, so that pruning a left
/// column that once forced a suffix does not rename the right one.
arrow::Result<JoinSpec> MakeJoinSpec(const std::shared_ptr<arrow::Schema>& left,
                                     const std::shared_ptr<arrow::Schema>& right,
                                     const JoinOptions& options,
                                     const std::map<std::string, std::string>& right_names = {});

/// One line describing a join, for explain(), stats() and errors:
/// "Join(inner, on=[k])", or "Join(left, left_on=[a], right_on=[b])" when names differ.
std::string DescribeJoin(JoinType how, const std::vector<std::string>& left_keys,
                         const std::vector<std::string>& right_keys);

/// A hash join of two inputs (left = inputs()[0], right = inputs()[1]).
class JoinNode : public PlanNode {
 public:
  static arrow::Result<PlanNodePtr> Make(PlanNodePtr left, PlanNodePtr right, JoinOptions options);
  /// The same with the output names of right columns fixed (right column -> name), as
  /// right_names() of an earlier node gives them (plan serialization).
  static arrow::Result<PlanNodePtr> Make(PlanNodePtr left, PlanNodePtr right, JoinOptions options,
                                         std::map<std::string, std::string> right_names);
  const JoinOptions& options() const { return options_; }
  const std::map<std::string, std::string>& right_names() const { return right_names_; }
  /// Null while an input's schema is unknown (downstream of a user function); the executor
  /// resolves the join from the first batches then.
  const JoinSpec* spec() const { return spec_ ? &*spec_ : nullptr; }
  std::string ToString() const override;
  arrow::Result<PlanNodePtr> WithInputs(std::vector<PlanNodePtr> inputs) const override;

 private:
  JoinNode(PlanNodePtr left, PlanNodePtr right, JoinOptions options, std::optional<JoinSpec> spec,
           std::map<std::string, std::string> right_names);
  JoinOptions options_;
  std::optional<JoinSpec> spec_;
  /// Output names of right columns, fixed when the node was first resolved.
  std::map<std::string, std::string> right_names_;
};

/// Writes its input's rows to a sink; only ever the root of a plan. Its output is the
/// sink's per-task results (SinkSpec::result_schema), which the driver commits.
class WriteNode : public PlanNode {
 public:
  static arrow::Result<PlanNodePtr> Make(PlanNodePtr input, std::shared_ptr<const SinkSpec> sink);
  const std::shared_ptr<const SinkSpec>& sink() const { return sink_; }
  std::string ToString() const override;
  arrow::Result<PlanNodePtr> WithInputs(std::vector<PlanNodePtr> inputs) const override;

 private:
  WriteNode(PlanNodePtr input, std::shared_ptr<const SinkSpec> sink);
  std::shared_ptr<const SinkSpec> sink_;
};

/// Whether the row order or blocking of `root`'s output was set on purpose: a sort, an
/// aggregate (its groups come out sorted by key) or a repartition below it, seen through
/// filters, projections, user functions, limits and unions; not through a join, whose
/// rows come out in no particular order. A sink may regroup the rows of a plan for which
/// this is false.
bool HasDeliberateOrder(const PlanNodePtr& root);

/// The optimized plan as an indented tree, root first.
std::string PlanToString(const PlanNodePtr& root);

/// Column names an expression reads.
std::vector<std::string> ReferencedColumns(const arrow::compute::Expression& expr);

/// Binds `expr` to `schema`, naming the expression and the schema's columns in the error.
/// Kernels come from `exec_context`'s function registry (Arrow's when null); binding picks
/// the kernel that evaluation then uses.
arrow::Result<arrow::compute::Expression> BindExpression(
    const arrow::compute::Expression& expr, const arrow::Schema& schema, const std::string& context,
    arrow::compute::ExecContext* exec_context = nullptr);

/// Whether partial results of the aggregate over parts of the input combine into the
/// result over all of it. count_distinct, std and var do not (their partial state is not
/// a column Acero can merge), so a group-by with them exchanges or partitions the raw rows.
bool CombinesFromPartials(const Aggregate& aggregate);
/// The name of the partial column of aggregate `index` (`part`: "", "_sum", "_count").
std::string PartialAggregateName(size_t index, const char* part);

/// The output type and name of an aggregate given the input schema.
arrow::Result<std::shared_ptr<arrow::Field>> AggregateOutputField(const Aggregate& aggregate,
                                                                  const arrow::Schema& input);

}  // namespace sluice::plan
