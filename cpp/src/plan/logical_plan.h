#pragma once

#include <arrow/compute/expression.h>
#include <arrow/result.h>
#include <arrow/type.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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
  kUnion
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

/// Whether the row order or blocking of `root`'s output was set on purpose: a sort, an
/// aggregate (its groups come out sorted by key) or a repartition below it, seen through
/// filters, projections, user functions, limits and unions. A sink may regroup the rows
/// of a plan for which this is false.
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

/// The output type and name of an aggregate given the input schema.
arrow::Result<std::shared_ptr<arrow::Field>> AggregateOutputField(const Aggregate& aggregate,
                                                                  const arrow::Schema& input);

}  // namespace sluice::plan
