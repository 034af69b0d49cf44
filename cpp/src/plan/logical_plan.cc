#include "plan/logical_plan.h"

#include <arrow/compute/api_scalar.h>
#include <arrow/compute/expression.h>

#include <set>
#include <sstream>

#include "compute/engine_functions.h"
#include "compute/expression_depth.h"
#include "compute/kleene_chains.h"
#include "sluice/expression.h"

namespace sluice::plan {

namespace cp = arrow::compute;

namespace {

/// How much of an expression explain() and operator names show.
constexpr size_t kShownExpressionChars = 2000;

/// `predicate`, checked for depth, with its long OR chains of equalities on a column
/// held as set lookups where the column's type allows (compute/kleene_chains.h).
arrow::Result<cp::Expression> WithSetLookups(const cp::Expression& predicate,
                                             const arrow::Schema& schema,
                                             const std::string& context) {
  ARROW_RETURN_NOT_OK(compute::CheckExpressionDepth(predicate, context, kMaxExpressionDepth));
  return compute::UseSetLookups(predicate, schema);
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ", ";
    out += names[i];
  }
  return out;
}

std::string SchemaNames(const arrow::Schema& schema) {
  std::vector<std::string> names;
  for (const auto& f : schema.fields()) names.push_back(f->name());
  return "[" + JoinNames(names) + "]";
}

arrow::Status CheckColumnsExist(const arrow::Schema& schema,
                                const std::vector<std::string>& columns,
                                const std::string& context) {
  for (const auto& c : columns) {
    if (schema.GetFieldIndex(c) < 0) {
      return arrow::Status::KeyError(context, ": no column named '", c, "'; the columns are ",
                                     SchemaNames(schema));
    }
  }
  return arrow::Status::OK();
}

}  // namespace

std::vector<std::string> ReferencedColumns(const cp::Expression& expr) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& ref : cp::FieldsInExpression(expr)) {
    const std::string* name = ref.name();
    if (name && seen.insert(*name).second) out.push_back(*name);
  }
  return out;
}

bool HasDeliberateOrder(const PlanNodePtr& root) {
  switch (root->kind()) {
    case NodeKind::kSort:
    case NodeKind::kAggregate:
      return true;
    case NodeKind::kRepartition:  // the user chose the blocks, and so the files
      return true;
    case NodeKind::kSource:
    case NodeKind::kJoin:  // a hash join's rows come out in no particular order
      return false;
    case NodeKind::kFilter:
    case NodeKind::kProject:
    case NodeKind::kMapBatches:
    case NodeKind::kLimit:
    case NodeKind::kUnion:
    case NodeKind::kWrite:
      for (const auto& input : root->inputs()) {
        if (HasDeliberateOrder(input)) return true;
      }
      return false;
  }
  return true;  // an unknown node: keep its order
}

arrow::Result<cp::Expression> BindExpression(const cp::Expression& expr,
                                             const arrow::Schema& schema,
                                             const std::string& context,
                                             cp::ExecContext* exec_context) {
  // First, before any of Arrow's recursive passes (or ours below) walks the expression.
  ARROW_RETURN_NOT_OK(compute::CheckExpressionDepth(expr, context, kMaxExpressionDepth));
  for (const auto& name : ReferencedColumns(expr)) {
    if (schema.GetFieldIndex(name) < 0) {
      return arrow::Status::KeyError(
          context, ": expression ", compute::DescribeExpression(expr), " refers to column '", name,
          "', which does not exist; the columns are ", SchemaNames(schema));
    }
  }
  auto bound = exec_context ? expr.Bind(schema, exec_context)
                            : compute::BindWithEngineFunctions(expr, schema);
  if (!bound.ok()) {
    return bound.status().WithMessage(context, ": cannot evaluate ", compute::DescribeExpression(expr),
                                      ": ", bound.status().message());
  }
  return bound;
}

arrow::Result<std::shared_ptr<arrow::Schema>> ProjectSchema(
    const std::shared_ptr<arrow::Schema>& full, const Pushdown& pushdown) {
  if (!pushdown.columns) return full;
  arrow::FieldVector fields;
  for (const auto& name : *pushdown.columns) {
    auto field = full->GetFieldByName(name);
    if (!field) {
      return arrow::Status::KeyError("no column named '", name, "'; the columns are ",
                                     SchemaNames(*full));
    }
    fields.push_back(field);
  }
  return arrow::schema(fields, full->metadata());
}

// ---- SourceNode

SourceNode::SourceNode(std::shared_ptr<const SourceSpec> spec, Pushdown pushdown,
                       std::shared_ptr<arrow::Schema> schema)
    : PlanNode(NodeKind::kSource, {}, std::move(schema)),
      spec_(std::move(spec)),
      pushdown_(std::move(pushdown)) {}

arrow::Result<PlanNodePtr> SourceNode::Make(std::shared_ptr<const SourceSpec> spec,
                                            Pushdown pushdown) {
  if (!spec) return arrow::Status::Invalid("source is null");
  ARROW_ASSIGN_OR_RAISE(auto schema, ProjectSchema(spec->schema(), pushdown));
  if (pushdown.filter) {
    if (!spec->SupportsFilterPushdown()) {
      return arrow::Status::Invalid(spec->name(), " does not take a pushed-down filter");
    }
    ARROW_ASSIGN_OR_RAISE(*pushdown.filter,
                          WithSetLookups(*pushdown.filter, *spec->schema(), spec->name()));
    ARROW_RETURN_NOT_OK(BindExpression(*pushdown.filter, *spec->schema(), spec->name()).status());
  }
  if (pushdown.limit && *pushdown.limit < 0) return arrow::Status::Invalid("negative limit");
  return PlanNodePtr(new SourceNode(std::move(spec), std::move(pushdown), std::move(schema)));
}

std::string SourceNode::ToString() const {
  std::ostringstream out;
  out << spec_->name() << "[" << spec_->Describe() << "]";
  if (pushdown_.columns) out << " columns=[" << JoinNames(*pushdown_.columns) << "]";
  if (pushdown_.filter) {
    out << " filter=" << compute::DescribeExpression(*pushdown_.filter, kShownExpressionChars);
  }
  if (pushdown_.limit) out << " limit=" << *pushdown_.limit;
  return out.str();
}

arrow::Result<PlanNodePtr> SourceNode::WithInputs(std::vector<PlanNodePtr> inputs) const {
  if (!inputs.empty()) return arrow::Status::Invalid("a source has no inputs");
  // Nothing changed that Make() checked; re-binding a filter of 100,000 terms is not free.
  return PlanNodePtr(new SourceNode(spec_, pushdown_, schema()));
}

// ---- FilterNode

FilterNode::FilterNode(PlanNodePtr input, cp::Expression predicate)
    : PlanNode(NodeKind::kFilter, {input}, input->schema()), predicate_(std::move(predicate)) {}

arrow::Result<PlanNodePtr> FilterNode::Make(PlanNodePtr input, cp::Expression predicate) {
  if (input->schema()) {
    ARROW_ASSIGN_OR_RAISE(predicate, WithSetLookups(predicate, *input->schema(), "filter"));
    ARROW_ASSIGN_OR_RAISE(auto bound, BindExpression(predicate, *input->schema(), "filter"));
    if (bound.type()->id() != arrow::Type::BOOL) {
      return arrow::Status::TypeError("filter: predicate ",
                                      compute::DescribeExpression(predicate),
                                      " has type ",
                                      bound.type()->ToString(), ", expected boolean");
    }
  }
  return PlanNodePtr(new FilterNode(std::move(input), std::move(predicate)));
}

std::string FilterNode::ToString() const {
  return "Filter(" + compute::DescribeExpression(predicate_, kShownExpressionChars) + ")";
}

arrow::Result<PlanNodePtr> FilterNode::WithInputs(std::vector<PlanNodePtr> inputs) const {
  const PlanNodePtr& input = inputs.at(0);
  // The predicate was checked against this schema already (the optimizer rebuilds nodes
  // often, and binding a long predicate is not free).
  const auto& checked = this->input()->schema();
  if (input->schema() && checked && input->schema()->Equals(*checked, /*check_metadata=*/false)) {
    return PlanNodePtr(new FilterNode(input, predicate_));
  }
  return Make(input, predicate_);
}

// ---- ProjectNode

ProjectNode::ProjectNode(PlanNodePtr input, std::vector<cp::Expression> exprs,
                         std::vector<std::string> names, std::shared_ptr<arrow::Schema> schema)
    : PlanNode(NodeKind::kProject, {input}, std::move(schema)),
      exprs_(std::move(exprs)),
      names_(std::move(names)) {}

arrow::Result<PlanNodePtr> ProjectNode::Make(PlanNodePtr input, std::vector<cp::Expression> exprs,
                                             std::vector<std::string> names) {
  if (exprs.size() != names.size()) {
    return arrow::Status::Invalid("project: ", exprs.size(), " expressions but ", names.size(),
                                  " names");
  }
  std::set<std::string> unique;
  for (const auto& n : names) {
    if (!unique.insert(n).second) {
      return arrow::Status::Invalid("project: column name '", n, "' appears twice");
    }
  }
  std::shared_ptr<arrow::Schema> schema;
  if (input->schema()) {
    arrow::FieldVector fields;
    for (size_t i = 0; i < exprs.size(); ++i) {
      ARROW_ASSIGN_OR_RAISE(
          auto bound, BindExpression(exprs[i], *input->schema(), "column '" + names[i] + "'"));
      std::shared_ptr<arrow::Field> field;
      const auto* ref = exprs[i].field_ref();
      if (ref && ref->name()) field = input->schema()->GetFieldByName(*ref->name());
      fields.push_back(field ? field->WithName(names[i])
                             : arrow::field(names[i], bound.type()->GetSharedPtr()));
    }
    schema = arrow::schema(fields);
  }
  return PlanNodePtr(
      new ProjectNode(std::move(input), std::move(exprs), std::move(names), std::move(schema)));
}

std::string ProjectNode::ToString() const {
  std::ostringstream out;
  out << "Project(";
  for (size_t i = 0; i < exprs_.size(); ++i) {
    if (i) out << ", ";
    const auto* ref = exprs_[i].field_ref();
    if (ref && ref->name() && *ref->name() == names_[i]) {
      out << names_[i];
    } else {
      out << names_[i] << "=" << compute::DescribeExpression(exprs_[i], kShownExpressionChars);
    }
  }
  out << ")";
  return out.str();
}

arrow::Result<PlanNodePtr> ProjectNode::WithInputs(std::vector<PlanNodePtr> inputs) const {
  return Make(inputs.at(0), exprs_, names_);
}

// ---- MapBatchesNode

MapBatchesNode::MapBatchesNode(PlanNodePtr input, BatchFunctionFactory factory,
                               MapBatchesOptions options)
    : PlanNode(NodeKind::kMapBatches, {input}, nullptr),
      factory_(std::move(factory)),
      options_(std::move(options)) {}

arrow::Result<PlanNodePtr> MapBatchesNode::Make(PlanNodePtr input, BatchFunctionFactory factory,
                                                MapBatchesOptions options) {
  if (!factory) return arrow::Status::Invalid(options.name, ": no function given");
  if (options.batch_size && *options.batch_size <= 0) {
    return arrow::Status::Invalid(options.name, ": batch_size must be positive, got ",
                                  *options.batch_size);
  }
  if (options.min_actors < 0 || options.max_actors < options.min_actors) {
    return arrow::Status::Invalid(options.name,
                                  ": actor pool needs 0 <= min_size <= max_size, got ",
                                  options.min_actors, " and ", options.max_actors);
  }
  return PlanNodePtr(new MapBatchesNode(std::move(input), std::move(factory), std::move(options)));
}

std::string MapBatchesNode::ToString() const {
  std::ostringstream out;
  out << options_.name;
  std::vector<std::string> parts;
  if (options_.batch_size) parts.push_back("batch_size=" + std::to_string(*options_.batch_size));
  if (options_.max_actors > 0) {
    parts.push_back("actors=" + std::to_string(options_.min_actors) + ".." +
                    std::to_string(options_.max_actors));
  }
  if (!parts.empty()) out << "[" << JoinNames(parts) << "]";
  return out.str();
}

arrow::Result<PlanNodePtr> MapBatchesNode::WithInputs(std::vector<PlanNodePtr> inputs) const {
  return Make(inputs.at(0), factory_, options_);
}

// ---- LimitNode

LimitNode::LimitNode(PlanNodePtr input, int64_t limit)
    : PlanNode(NodeKind::kLimit, {input}, input->schema()), limit_(limit) {}

arrow::Result<PlanNodePtr> LimitNode::Make(PlanNodePtr input, int64_t limit) {
  if (limit < 0) return arrow::Status::Invalid("limit must be >= 0, got ", limit);
  return PlanNodePtr(new LimitNode(std::move(input), limit));
}

std::string LimitNode::ToString() const { return "Limit(" + std::to_string(limit_) + ")"; }

arrow::Result<PlanNodePtr> LimitNode::WithInputs(std::vector<PlanNodePtr> inputs) const {
  return Make(inputs.at(0), limit_);
}

// ---- SortNode

SortNode::SortNode(PlanNodePtr input, std::vector<SortKey> keys)
    : PlanNode(NodeKind::kSort, {input}, input->schema()), keys_(std::move(keys)) {}

arrow::Result<PlanNodePtr> SortNode::Make(PlanNodePtr input, std::vector<SortKey> keys) {
  if (keys.empty()) return arrow::Status::Invalid("sort: no keys given");
  if (input->schema()) {
    std::vector<std::string> names;
    for (const auto& k : keys) names.push_back(k.column);
    ARROW_RETURN_NOT_OK(CheckColumnsExist(*input->schema(), names, "sort"));
  }
  return PlanNodePtr(new SortNode(std::move(input), std::move(keys)));
}

std::string SortNode::ToString() const {
  std::vector<std::string> parts;
  for (const auto& k : keys_) {
    parts.push_back(k.column + (k.descending ? " DESC" : " ASC") +
                    (k.nulls_first ? " NULLS FIRST" : ""));
  }
  return "Sort(" + JoinNames(parts) + ")";
}

arrow::Result<PlanNodePtr> SortNode::WithInputs(std::vector<PlanNodePtr> inputs) const {
  return Make(inputs.at(0), keys_);
}

// ---- AggregateNode

bool CombinesFromPartials(const Aggregate& aggregate) {
  return aggregate.function != "count_distinct" && aggregate.function != "std" &&
         aggregate.function != "var";
}

std::string PartialAggregateName(size_t index, const char* part) {
  return "__sluice_partial_" + std::to_string(index) + part;
}

arrow::Result<std::shared_ptr<arrow::Field>> AggregateOutputField(const Aggregate& agg,
                                                                  const arrow::Schema& input) {
  static const std::set<std::string> kFunctions = {
      "count", "count_all",      "sum",   "mean", "min", "max", "std",
      "var",   "count_distinct", "first", "last"};
  if (!kFunctions.count(agg.function)) {
    return arrow::Status::Invalid("aggregate: unknown function '", agg.function,
                                  "'; expected one of count, sum, mean, min, max, std, var, "
                                  "count_distinct, first, last");
  }
  std::string name = agg.output_name;
  if (name.empty()) {
    name = (agg.function == "count_all" ? std::string("count") : agg.function) + "(" + agg.column +
           ")";
  }
  if (agg.column.empty()) {
    if (agg.function != "count" && agg.function != "count_all") {
      return arrow::Status::Invalid("aggregate: ", agg.function, " needs a column");
    }
    return arrow::field(name, arrow::int64(), false);
  }
  auto field = input.GetFieldByName(agg.column);
  if (!field) {
    return arrow::Status::KeyError("aggregate ", agg.function, ": no column named '", agg.column,
                                   "'; the columns are ", SchemaNames(input));
  }
  const auto& type = field->type();
  const bool numeric = arrow::is_numeric(type->id()) || arrow::is_decimal(type->id());
  if (agg.function == "count" || agg.function == "count_all" || agg.function == "count_distinct") {
    return arrow::field(name, arrow::int64(), false);
  }
  if (agg.function == "mean" || agg.function == "std" || agg.function == "var") {
    if (!numeric) {
      return arrow::Status::TypeError("aggregate ", agg.function, "(", agg.column,
                                      "): column has type ", type->ToString(),
                                      ", expected a number");
    }
    return arrow::field(name, arrow::float64());
  }
  if (agg.function == "sum") {
    if (!numeric && type->id() != arrow::Type::BOOL) {
      return arrow::Status::TypeError("aggregate sum(", agg.column, "): column has type ",
                                      type->ToString(), ", expected a number");
    }
    if (arrow::is_floating(type->id())) return arrow::field(name, arrow::float64());
    if (arrow::is_decimal(type->id())) return arrow::field(name, type);
    if (arrow::is_unsigned_integer(type->id())) return arrow::field(name, arrow::uint64());
    return arrow::field(name, arrow::int64());
  }
  return arrow::field(name, type);  // min, max, first, last
}

AggregateNode::AggregateNode(PlanNodePtr input, std::vector<std::string> keys,
                             std::vector<Aggregate> aggregates,
                             std::shared_ptr<arrow::Schema> schema)
    : PlanNode(NodeKind::kAggregate, {input}, std::move(schema)),
      keys_(std::move(keys)),
      aggregates_(std::move(aggregates)) {}

arrow::Result<PlanNodePtr> AggregateNode::Make(PlanNodePtr input, std::vector<std::string> keys,
                                               std::vector<Aggregate> aggregates) {
  // Keys alone make a distinct.
  if (aggregates.empty() && keys.empty()) {
    return arrow::Status::Invalid("aggregate: no aggregates given");
  }
  std::shared_ptr<arrow::Schema> schema;
  if (input->schema()) {
    ARROW_RETURN_NOT_OK(CheckColumnsExist(*input->schema(), keys, "groupby"));
    arrow::FieldVector fields;
    for (const auto& k : keys) fields.push_back(input->schema()->GetFieldByName(k));
    std::set<std::string> names(keys.begin(), keys.end());
    for (auto& agg : aggregates) {
      ARROW_ASSIGN_OR_RAISE(auto field, AggregateOutputField(agg, *input->schema()));
      agg.output_name = field->name();
      if (!names.insert(field->name()).second) {
        return arrow::Status::Invalid("aggregate: output column '", field->name(),
                                      "' appears twice");
      }
      fields.push_back(field);
    }
    schema = arrow::schema(fields);
  }
  return PlanNodePtr(new AggregateNode(std::move(input), std::move(keys), std::move(aggregates),
                                       std::move(schema)));
}

std::string AggregateNode::ToString() const {
  std::vector<std::string> aggs;
  for (const auto& a : aggregates_) aggs.push_back(a.output_name);
  return "Aggregate(keys=[" + JoinNames(keys_) + "], " + JoinNames(aggs) + ")";
}

arrow::Result<PlanNodePtr> AggregateNode::WithInputs(std::vector<PlanNodePtr> inputs) const {
  return Make(inputs.at(0), keys_, aggregates_);
}

// ---- RepartitionNode

RepartitionNode::RepartitionNode(PlanNodePtr input, int num_blocks, std::vector<std::string> keys)
    : PlanNode(NodeKind::kRepartition, {input}, input->schema()),
      num_blocks_(num_blocks),
      keys_(std::move(keys)) {}

arrow::Result<PlanNodePtr> RepartitionNode::Make(PlanNodePtr input, int num_blocks,
                                                 std::vector<std::string> keys) {
  if (num_blocks <= 0) {
    return arrow::Status::Invalid("repartition: num_blocks must be positive, got ", num_blocks);
  }
  if (input->schema())
    ARROW_RETURN_NOT_OK(CheckColumnsExist(*input->schema(), keys, "repartition"));
  return PlanNodePtr(new RepartitionNode(std::move(input), num_blocks, std::move(keys)));
}

std::string RepartitionNode::ToString() const {
  std::string text = "Repartition(" + std::to_string(num_blocks_);
  if (!keys_.empty()) text += ", keys=[" + JoinNames(keys_) + "]";
  return text + ")";
}

arrow::Result<PlanNodePtr> RepartitionNode::WithInputs(std::vector<PlanNodePtr> inputs) const {
  return Make(inputs.at(0), num_blocks_, keys_);
}

// ---- UnionNode

UnionNode::UnionNode(std::vector<PlanNodePtr> inputs, std::shared_ptr<arrow::Schema> schema)
    : PlanNode(NodeKind::kUnion, std::move(inputs), std::move(schema)) {}

arrow::Result<PlanNodePtr> UnionNode::Make(std::vector<PlanNodePtr> inputs) {
  if (inputs.size() < 2) return arrow::Status::Invalid("union needs at least two inputs");
  std::shared_ptr<arrow::Schema> schema = inputs[0]->schema();
  for (size_t i = 1; i < inputs.size(); ++i) {
    const auto& other = inputs[i]->schema();
    if (!schema || !other) {
      schema = nullptr;
      continue;
    }
    if (!schema->Equals(*other, /*check_metadata=*/false)) {
      return arrow::Status::TypeError("union: schemas differ.\nfirst: ", schema->ToString(),
                                      "\ninput ", i, ": ", other->ToString());
    }
  }
  return PlanNodePtr(new UnionNode(std::move(inputs), std::move(schema)));
}

std::string UnionNode::ToString() const { return "Union"; }

arrow::Result<PlanNodePtr> UnionNode::WithInputs(std::vector<PlanNodePtr> inputs) const {
  return Make(std::move(inputs));
}

// ---- WriteNode

WriteNode::WriteNode(PlanNodePtr input, std::shared_ptr<const SinkSpec> sink)
    : PlanNode(NodeKind::kWrite, {std::move(input)}, sink->result_schema()),
      sink_(std::move(sink)) {}

arrow::Result<PlanNodePtr> WriteNode::Make(PlanNodePtr input, std::shared_ptr<const SinkSpec> sink) {
  if (!input) return arrow::Status::Invalid("write: the input plan is null");
  if (!sink) return arrow::Status::Invalid("write: the sink is null");
  if (input->kind() == NodeKind::kWrite) {
    return arrow::Status::Invalid("write: the input is a write itself");
  }
  return PlanNodePtr(new WriteNode(std::move(input), std::move(sink)));
}

std::string WriteNode::ToString() const { return sink_->name() + "[" + sink_->Describe() + "]"; }

arrow::Result<PlanNodePtr> WriteNode::WithInputs(std::vector<PlanNodePtr> inputs) const {
  if (inputs.size() != 1) return arrow::Status::Invalid("a write has one input");
  return Make(std::move(inputs[0]), sink_);
}

// ---- JoinNode

bool IsHashJoinType(const arrow::DataType& type) {
  // Not the null type either: Acero refuses it as a key and as a column.
  const auto id = type.id();
  return arrow::is_binary_like(id) || arrow::is_large_binary_like(id) ||
         (arrow::is_fixed_width(id) && id != arrow::Type::DICTIONARY);
}

namespace {

arrow::Status CheckJoinKeys(const JoinOptions& options) {
  if (options.left_keys.empty() && options.right_keys.empty()) {
    return arrow::Status::Invalid("join: no key columns given");
  }
  if (options.left_keys.size() != options.right_keys.size()) {
    return arrow::Status::Invalid("join: ", options.left_keys.size(), " left key(s) [",
                                  JoinNames(options.left_keys), "] but ", options.right_keys.size(),
                                  " right key(s) [", JoinNames(options.right_keys),
                                  "]; give one right key per left key");
  }
  for (const auto* keys : {&options.left_keys, &options.right_keys}) {
    std::set<std::string> seen;
    for (const auto& k : *keys) {
      if (!seen.insert(k).second) {
        return arrow::Status::Invalid("join: key column '", k, "' is given twice on the ",
                                      keys == &options.left_keys ? "left" : "right");
      }
    }
  }
  switch (options.how) {
    case JoinType::kInner:
    case JoinType::kLeft:
    case JoinType::kRight:
    case JoinType::kOuter:
    case JoinType::kSemi:
    case JoinType::kAnti:
      return arrow::Status::OK();
  }
  return arrow::Status::Invalid("join: unknown join type ", static_cast<int>(options.how));
}

/// The type a key pair is compared as.
arrow::Result<std::shared_ptr<arrow::DataType>> JoinKeyType(const arrow::Field& left,
                                                            const arrow::Field& right) {
  // A dictionary key is compared by its values, a view (as polars exports strings) as the
  // plain string or binary type, which Acero's join takes.
  auto value_type = [](const std::shared_ptr<arrow::DataType>& type) {
    switch (type->id()) {
      case arrow::Type::DICTIONARY:
        return static_cast<const arrow::DictionaryType&>(*type).value_type();
      case arrow::Type::STRING_VIEW:
        return arrow::utf8();
      case arrow::Type::BINARY_VIEW:
        return arrow::binary();
      default:
        return type;
    }
  };
  std::shared_ptr<arrow::DataType> left_type = value_type(left.type());
  std::shared_ptr<arrow::DataType> right_type = value_type(right.type());
  std::shared_ptr<arrow::DataType> common;
  if (left_type->Equals(*right_type)) {
    common = left_type;
  } else if (arrow::is_integer(left_type->id()) && arrow::is_integer(right_type->id())) {
    common = arrow::int64();
  } else {
    return arrow::Status::TypeError(
        "join: key column '", left.name(), "' has type ", left.type()->ToString(),
        " on the left but key column '", right.name(), "' has type ", right.type()->ToString(),
        " on the right; cast one of them so that both have the same type");
  }
  if (!IsHashJoinType(*common)) {
    return arrow::Status::TypeError("join: key column '", left.name(), "' has type ",
                                    common->ToString(),
                                    ", which cannot be a join key; keys must be numbers, "
                                    "strings, binary, booleans, dates, times or decimals");
  }
  return common;
}

arrow::Result<std::vector<int>> KeyIndexes(const arrow::Schema& schema,
                                           const std::vector<std::string>& keys, const char* side) {
  std::vector<int> indexes;
  for (const auto& k : keys) {
    const int index = schema.GetFieldIndex(k);
    if (index < 0) {
      return arrow::Status::KeyError("join: the ", side, " input has no column named '", k,
                                     "'; its columns are ", SchemaNames(schema));
    }
    indexes.push_back(index);
  }
  return indexes;
}

}  // namespace

arrow::Result<JoinSpec> MakeJoinSpec(const std::shared_ptr<arrow::Schema>& left,
                                     const std::shared_ptr<arrow::Schema>& right,
                                     const JoinOptions& options,
                                     const std::map<std::string, std::string>& right_names) {
  if (!left || !right) return arrow::Status::Invalid("join: an input schema is unknown");
  ARROW_RETURN_NOT_OK(CheckJoinKeys(options));
  JoinSpec spec;
  spec.how = options.how;
  spec.left_keys = options.left_keys;
  spec.right_keys = options.right_keys;
  spec.left_schema = left;
  spec.right_schema = right;
  ARROW_ASSIGN_OR_RAISE(auto left_key_index, KeyIndexes(*left, options.left_keys, "left"));
  ARROW_ASSIGN_OR_RAISE(auto right_key_index, KeyIndexes(*right, options.right_keys, "right"));
  std::map<int, size_t> left_pair_of;   // left column -> key pair
  std::map<int, size_t> right_pair_of;  // right column -> key pair
  for (size_t i = 0; i < options.left_keys.size(); ++i) {
    ARROW_ASSIGN_OR_RAISE(
        auto type, JoinKeyType(*left->field(left_key_index[i]), *right->field(right_key_index[i])));
    spec.key_types.push_back(std::move(type));
    left_pair_of[left_key_index[i]] = i;
    right_pair_of[right_key_index[i]] = i;
  }
  // A key named the same on both sides is shown once (SQL USING).
  auto merged = [&](size_t pair) { return options.left_keys[pair] == options.right_keys[pair]; };
  const bool left_only = options.how == JoinType::kSemi || options.how == JoinType::kAnti;
  // Sides whose rows may be missing from an output row, leaving their columns null there.
  const bool left_may_be_null = options.how == JoinType::kRight || options.how == JoinType::kOuter;
  const bool right_may_be_null = options.how == JoinType::kLeft || options.how == JoinType::kOuter;

  arrow::FieldVector fields;
  std::map<std::string, std::string> origin_of;  // output name -> where it came from
  auto add = [&](JoinOutputColumn column, std::shared_ptr<arrow::Field> field,
                 std::string origin) -> arrow::Status {
    auto [it, inserted] = origin_of.emplace(column.name, origin);
    if (!inserted) {
      return arrow::Status::Invalid("join: the output would have two columns named '", column.name,
                                    "' (", it->second, " and ", origin,
                                    "); choose another suffix or rename a column first");
    }
    fields.push_back(field->WithName(column.name));
    spec.columns.push_back(std::move(column));
    return arrow::Status::OK();
  };
  for (int j = 0; j < left->num_fields(); ++j) {
    const auto& field = left->field(j);
    JoinOutputColumn column{field->name(), j, -1};
    auto type = field->type();
    bool nullable = field->nullable() || left_may_be_null;
    auto pair = left_pair_of.find(j);
    if (pair != left_pair_of.end()) {
      type = spec.key_types[pair->second];
      if (merged(pair->second) && !left_only) {
        column.right = right_key_index[pair->second];
        nullable = field->nullable() || right->field(column.right)->nullable();
      }
    }
    ARROW_RETURN_NOT_OK(add(std::move(column), field->WithType(type)->WithNullable(nullable),
                            "left column '" + field->name() + "'"));
  }
  if (!left_only) {
    for (int j = 0; j < right->num_fields(); ++j) {
      const auto& field = right->field(j);
      auto pair = right_pair_of.find(j);
      if (pair != right_pair_of.end() && merged(pair->second)) continue;
      std::string name = field->name();
      auto fixed = right_names.find(name);
      if (fixed != right_names.end()) {
        name = fixed->second;
      } else if (!left->GetAllFieldsByName(name).empty()) {
        name += options.right_suffix;
      }
      auto type = pair == right_pair_of.end() ? field->type() : spec.key_types[pair->second];
      ARROW_RETURN_NOT_OK(
          add(JoinOutputColumn{name, -1, j},
              field->WithType(type)->WithNullable(field->nullable() || right_may_be_null),
              "right column '" + field->name() + "'"));
    }
  }
  spec.output_schema = arrow::schema(std::move(fields));
  return spec;
}

JoinNode::JoinNode(PlanNodePtr left, PlanNodePtr right, JoinOptions options,
                   std::optional<JoinSpec> spec, std::map<std::string, std::string> right_names)
    : PlanNode(NodeKind::kJoin, {std::move(left), std::move(right)},
               spec ? spec->output_schema : nullptr),
      options_(std::move(options)),
      spec_(std::move(spec)),
      right_names_(std::move(right_names)) {}

arrow::Result<PlanNodePtr> JoinNode::Make(PlanNodePtr left, PlanNodePtr right,
                                          JoinOptions options) {
  return Make(std::move(left), std::move(right), std::move(options), {});
}

arrow::Result<PlanNodePtr> JoinNode::Make(PlanNodePtr left, PlanNodePtr right, JoinOptions options,
                                          std::map<std::string, std::string> right_names) {
  if (!left || !right) return arrow::Status::Invalid("join: an input is missing");
  ARROW_RETURN_NOT_OK(CheckJoinKeys(options));
  std::optional<JoinSpec> spec;
  if (left->schema() && right->schema()) {
    ARROW_ASSIGN_OR_RAISE(spec,
                          MakeJoinSpec(left->schema(), right->schema(), options, right_names));
    for (const auto& column : spec->columns) {
      if (column.right >= 0 && column.left < 0) {
        right_names.emplace(spec->right_schema->field(column.right)->name(), column.name);
      }
    }
  }
  return PlanNodePtr(new JoinNode(std::move(left), std::move(right), std::move(options),
                                  std::move(spec), std::move(right_names)));
}

std::string DescribeJoin(JoinType how, const std::vector<std::string>& left_keys,
                         const std::vector<std::string>& right_keys) {
  std::string out = "Join(" + JoinTypeName(how) + ", ";
  if (left_keys == right_keys) {
    out += "on=[" + JoinNames(left_keys) + "]";
  } else {
    out += "left_on=[" + JoinNames(left_keys) + "], right_on=[" + JoinNames(right_keys) + "]";
  }
  return out + ")";
}

std::string JoinNode::ToString() const {
  return DescribeJoin(options_.how, options_.left_keys, options_.right_keys);
}

arrow::Result<PlanNodePtr> JoinNode::WithInputs(std::vector<PlanNodePtr> inputs) const {
  if (inputs.size() != 2) return arrow::Status::Invalid("a join has two inputs");
  return Make(std::move(inputs[0]), std::move(inputs[1]), options_, right_names_);
}

namespace {
void Print(const PlanNodePtr& node, int depth, std::ostringstream& out) {
  out << std::string(depth * 2, ' ') << (depth ? "+- " : "") << node->ToString() << "\n";
  for (const auto& input : node->inputs()) Print(input, depth + 1, out);
}
}  // namespace

std::string PlanToString(const PlanNodePtr& root) {
  std::ostringstream out;
  Print(root, 0, out);
  return out.str();
}

}  // namespace sluice::plan
