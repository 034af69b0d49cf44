#include "sluice/dataset.h"

#include <arrow/table.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "physical/executor.h"
#include "formats/bad_records.h"
#include "connectors/memory/memory_sources.h"
#include "formats/file_sources.h"
#include "physical/write_execution.h"
#include "formats/file_formats.h"
#include "connectors/files/file_sink.h"
#include "optimizer/optimizer.h"
#include "plan/logical_plan.h"

namespace sluice {

using plan::PlanNodePtr;

namespace {

arrow::Result<Dataset> FromSource(arrow::Result<std::shared_ptr<const plan::SourceSpec>> spec,
                                  const Session& session) {
  ARROW_ASSIGN_OR_RAISE(auto source, std::move(spec));
  ARROW_ASSIGN_OR_RAISE(auto node, plan::SourceNode::Make(std::move(source)));
  return Dataset(std::move(node), session);
}

/// Datasets combined into one plan must run in one session.
arrow::Status CheckSameSession(const Session& a, const Session& b, const char* what) {
  if (a.id() == b.id()) return arrow::Status::OK();
  return arrow::Status::Invalid(what, ": the datasets belong to different sessions (", a.id(),
                                " and ", b.id(), "); make them in one session");
}

}  // namespace

std::string ExecutionStats::ToString() const {
  std::ostringstream out;
  char line[320];
  std::snprintf(line, sizeof(line), "%-48s %14s %14s %12s %10s %12s %12s\n", "operator", "rows in",
                "rows out", "bytes out", "time s", "reserved", "spilled");
  out << line;
  for (const auto& op : operators) {
    std::string name = op.name.size() > 48 ? op.name.substr(0, 45) + "..." : op.name;
    std::snprintf(line, sizeof(line), "%-48s %14lld %14lld %12s %10.3f %12s %12s\n", name.c_str(),
                  static_cast<long long>(op.rows_in), static_cast<long long>(op.rows_out),
                  FormatByteSize(op.bytes_out).c_str(), op.cpu_seconds,
                  op.peak_reserved_bytes > 0 ? FormatByteSize(op.peak_reserved_bytes).c_str() : "-",
                  op.spilled_bytes > 0 ? FormatByteSize(op.spilled_bytes).c_str() : "-");
    out << line;
  }
  std::snprintf(line, sizeof(line), "wall time %.3f s, peak memory %s, spilled %s\n", wall_seconds,
                FormatByteSize(peak_memory_bytes).c_str(), FormatByteSize(spilled_bytes).c_str());
  out << line;
  if (bad_records_skipped > 0 || bad_records_collected > 0) {
    out << "bad records: " << bad_records_skipped << " skipped, " << bad_records_collected
        << " collected\n";
  }
  return out.str();
}

Dataset::Dataset(std::shared_ptr<const plan::PlanNode> plan, Session session)
    : plan_(std::move(plan)),
      session_(std::move(session)),
      last_stats_(std::make_shared<ExecutionStats>()) {}

arrow::Result<Dataset> Dataset::Derive(arrow::Result<PlanNodePtr> node) const {
  ARROW_ASSIGN_OR_RAISE(auto plan, std::move(node));
  return Dataset(std::move(plan), session_);
}

arrow::Result<Dataset> Dataset::ReadParquet(const std::vector<std::string>& paths,
                                            const ReadParquetOptions& options,
                                            const Session& session) {
  ARROW_ASSIGN_OR_RAISE(Dataset ds, FromSource(io::MakeParquetSource(paths, options,
                                                                     session.state()),
                                               session));
  // The filter may read columns that are not selected.
  if (options.filter) {
    ARROW_ASSIGN_OR_RAISE(ds, ds.Filter(*options.filter));
  }
  if (!options.columns.empty()) {
    ARROW_ASSIGN_OR_RAISE(ds, ds.SelectColumns(options.columns));
  }
  return ds;
}
arrow::Result<Dataset> Dataset::ReadCsv(const std::vector<std::string>& paths,
                                        const ReadCsvOptions& options,
                                        const Session& session) {
  return FromSource(io::MakeCsvSource(paths, options, session.state()), session);
}
arrow::Result<Dataset> Dataset::ReadJson(const std::vector<std::string>& paths,
                                         const ReadJsonOptions& options,
                                        const Session& session) {
  return FromSource(io::MakeJsonSource(paths, options, session.state()), session);
}
arrow::Result<Dataset> Dataset::ReadText(const std::vector<std::string>& paths,
                                         const ReadTextOptions& options,
                                        const Session& session) {
  return FromSource(io::MakeTextSource(paths, options, session.state()), session);
}
arrow::Result<Dataset> Dataset::Read(const std::string& format,
                                     const std::vector<std::string>& paths,
                                     const ReadOptions& options, const Session& session) {
  ARROW_ASSIGN_OR_RAISE(const formats::FileFormat* found, formats::FindFileFormat(format));
  if (found->default_read_options.index() != options.index()) {
    return arrow::Status::Invalid("read: ", found->name,
                                  " files take their own options (DefaultReadOptions)");
  }
  // Parquet's columns and filter are applied as ReadParquet applies them.
  if (const auto* parquet = std::get_if<ReadParquetOptions>(&options)) {
    return ReadParquet(paths, *parquet, session);
  }
  return FromSource(found->make_source(paths, options, session.state()), session);
}

arrow::Result<Dataset> Dataset::FromTable(std::shared_ptr<arrow::Table> table,
                                          const Session& session) {
  return FromSource(io::MakeTableSource(std::move(table)), session);
}
arrow::Result<Dataset> Dataset::Range(int64_t n, const Session& session) {
  return FromSource(io::MakeRangeSource(n), session);
}

arrow::Result<Dataset> Dataset::Filter(Expression predicate) const {
  return Derive(plan::FilterNode::Make(plan_, std::move(predicate)));
}

arrow::Result<Dataset> Dataset::Project(std::vector<Expression> exprs,
                                        std::vector<std::string> names) const {
  return Derive(plan::ProjectNode::Make(plan_, std::move(exprs), std::move(names)));
}

namespace {
arrow::Result<std::shared_ptr<arrow::Schema>> RequireSchema(const PlanNodePtr& plan,
                                                            const char* what) {
  if (!plan->schema()) {
    return arrow::Status::Invalid(
        what,
        " needs the column names, but they depend on a user function's output; "
        "call it on the result of materialize() or give the function's output schema");
  }
  return plan->schema();
}
}  // namespace

arrow::Result<Dataset> Dataset::SelectColumns(const std::vector<std::string>& columns) const {
  ARROW_ASSIGN_OR_RAISE(auto schema, RequireSchema(plan_, "select_columns"));
  std::vector<Expression> exprs;
  for (const auto& c : columns) {
    if (schema->GetFieldIndex(c) < 0) {
      return arrow::Status::KeyError("select_columns: no column named '", c, "'; the columns are ",
                                     schema->ToString());
    }
    exprs.push_back(Col(c));
  }
  return Project(std::move(exprs), columns);
}

arrow::Result<Dataset> Dataset::DropColumns(const std::vector<std::string>& columns) const {
  ARROW_ASSIGN_OR_RAISE(auto schema, RequireSchema(plan_, "drop_columns"));
  std::set<std::string> drop(columns.begin(), columns.end());
  for (const auto& c : columns) {
    if (schema->GetFieldIndex(c) < 0) {
      return arrow::Status::KeyError("drop_columns: no column named '", c, "'");
    }
  }
  std::vector<Expression> exprs;
  std::vector<std::string> names;
  for (const auto& f : schema->fields()) {
    if (drop.count(f->name())) continue;
    exprs.push_back(Col(f->name()));
    names.push_back(f->name());
  }
  return Project(std::move(exprs), std::move(names));
}

arrow::Result<Dataset> Dataset::RenameColumns(
    const std::vector<std::pair<std::string, std::string>>& old_to_new) const {
  ARROW_ASSIGN_OR_RAISE(auto schema, RequireSchema(plan_, "rename_columns"));
  std::map<std::string, std::string> renames;
  for (const auto& [from, to] : old_to_new) {
    if (schema->GetFieldIndex(from) < 0) {
      return arrow::Status::KeyError("rename_columns: no column named '", from, "'");
    }
    renames[from] = to;
  }
  std::vector<Expression> exprs;
  std::vector<std::string> names;
  for (const auto& f : schema->fields()) {
    exprs.push_back(Col(f->name()));
    auto it = renames.find(f->name());
    names.push_back(it == renames.end() ? f->name() : it->second);
  }
  return Project(std::move(exprs), std::move(names));
}

arrow::Result<Dataset> Dataset::WithColumn(const std::string& name, Expression expr) const {
  ARROW_ASSIGN_OR_RAISE(auto schema, RequireSchema(plan_, "add_column"));
  std::vector<Expression> exprs;
  std::vector<std::string> names;
  bool replaced = false;
  for (const auto& f : schema->fields()) {
    names.push_back(f->name());
    if (f->name() == name) {
      exprs.push_back(expr);
      replaced = true;
    } else {
      exprs.push_back(Col(f->name()));
    }
  }
  if (!replaced) {
    exprs.push_back(std::move(expr));
    names.push_back(name);
  }
  return Project(std::move(exprs), std::move(names));
}

arrow::Result<Dataset> Dataset::MapBatches(BatchFunctionFactory factory,
                                           MapBatchesOptions options) const {
  return Derive(plan::MapBatchesNode::Make(plan_, std::move(factory), std::move(options)));
}

arrow::Result<Dataset> Dataset::Limit(int64_t n) const {
  return Derive(plan::LimitNode::Make(plan_, n));
}

arrow::Result<Dataset> Dataset::Sort(std::vector<SortKey> keys) const {
  return Derive(plan::SortNode::Make(plan_, std::move(keys)));
}

arrow::Result<Dataset> Dataset::GroupByAggregate(std::vector<std::string> keys,
                                                 std::vector<Aggregate> aggregates) const {
  return Derive(plan::AggregateNode::Make(plan_, std::move(keys), std::move(aggregates)));
}

arrow::Result<Dataset> Dataset::Distinct(std::vector<std::string> columns) const {
  ARROW_ASSIGN_OR_RAISE(auto schema, Schema());
  if (columns.empty()) {
    for (const auto& field : schema->fields()) columns.push_back(field->name());
  }
  std::vector<Aggregate> others;
  for (const auto& field : schema->fields()) {
    if (std::find(columns.begin(), columns.end(), field->name()) == columns.end()) {
      others.push_back(Aggregate{"first", field->name(), field->name()});
    }
  }
  ARROW_ASSIGN_OR_RAISE(Dataset grouped, GroupByAggregate(columns, others));
  if (others.empty()) return grouped;
  // Back to the input's column order.
  std::vector<std::string> order;
  for (const auto& field : schema->fields()) order.push_back(field->name());
  return grouped.SelectColumns(order);
}

arrow::Result<Dataset> Dataset::Repartition(int num_blocks, std::vector<std::string> keys) const {
  return Derive(plan::RepartitionNode::Make(plan_, num_blocks, std::move(keys)));
}

arrow::Result<Dataset> Dataset::Union(const std::vector<Dataset>& others) const {
  std::vector<PlanNodePtr> inputs = {plan_};
  for (const auto& o : others) {
    ARROW_RETURN_NOT_OK(CheckSameSession(session_, o.session_, "union"));
    inputs.push_back(o.plan_);
  }
  return Derive(plan::UnionNode::Make(std::move(inputs)));
}

arrow::Result<Dataset> Dataset::Join(const Dataset& right, JoinOptions options) const {
  ARROW_RETURN_NOT_OK(CheckSameSession(session_, right.session_, "join"));
  return Derive(plan::JoinNode::Make(plan_, right.plan_, std::move(options)));
}

arrow::Result<std::shared_ptr<arrow::Schema>> Dataset::Schema() const {
  if (plan_->schema()) return plan_->schema();
  ARROW_ASSIGN_OR_RAISE(auto limited, Limit(1));
  ARROW_ASSIGN_OR_RAISE(auto reader, limited.Execute());
  return reader->schema();
}

arrow::Result<int64_t> Dataset::Count() const {
  ARROW_ASSIGN_OR_RAISE(auto optimized, optimizer::Optimize(plan_));
  // Row counts survive projections, so count below them.
  PlanNodePtr node = optimized;
  while (node->kind() == plan::NodeKind::kProject) node = node->input();
  if (node->kind() == plan::NodeKind::kSource) {
    const auto& source = static_cast<const plan::SourceNode&>(*node);
    ARROW_ASSIGN_OR_RAISE(auto rows, source.spec()->CountRowsFromMetadata(source.pushdown()));
    if (rows) return *rows;
  }
  // Read nothing but what the filters need: prune every column above the sources.
  ARROW_ASSIGN_OR_RAISE(auto no_columns, plan::ProjectNode::Make(node, {}, {}));
  ARROW_ASSIGN_OR_RAISE(auto count_plan, optimizer::Optimize(no_columns));
  ARROW_ASSIGN_OR_RAISE(auto reader, exec::PlanReader::Open(count_plan, last_stats_, session_.state()));
  int64_t rows = 0;
  while (true) {
    std::shared_ptr<arrow::RecordBatch> batch;
    ARROW_RETURN_NOT_OK(reader->ReadNext(&batch));
    if (!batch) break;
    rows += batch->num_rows();
  }
  return rows;
}

arrow::Result<int64_t> Dataset::SizeBytes() const {
  ARROW_ASSIGN_OR_RAISE(auto optimized, optimizer::Optimize(plan_));
  if (optimized->kind() == plan::NodeKind::kSource) {
    const auto& source = static_cast<const plan::SourceNode&>(*optimized);
    ARROW_ASSIGN_OR_RAISE(auto bytes, source.spec()->SizeBytesFromMetadata(source.pushdown()));
    if (bytes) return *bytes;
  }
  ARROW_ASSIGN_OR_RAISE(auto reader, exec::PlanReader::Open(optimized, last_stats_, session_.state()));
  int64_t bytes = 0;
  while (true) {
    std::shared_ptr<arrow::RecordBatch> batch;
    ARROW_RETURN_NOT_OK(reader->ReadNext(&batch));
    if (!batch) break;
    bytes += exec::BatchBufferBytes(*batch);
  }
  return bytes;
}

arrow::Result<std::shared_ptr<arrow::Table>> Dataset::ToTable() const {
  ARROW_ASSIGN_OR_RAISE(auto reader, Execute());
  return reader->ToTable();
}

arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> Dataset::Execute() const {
  ARROW_ASSIGN_OR_RAISE(auto optimized, optimizer::Optimize(plan_));
  ARROW_ASSIGN_OR_RAISE(auto reader, exec::PlanReader::Open(optimized, last_stats_, session_.state()));
  return reader;
}

namespace {

arrow::Result<plan::PlanNodePtr> PlanWrite(const plan::PlanNodePtr& plan, const std::string& format,
                                           const std::string& path, const WriteOptions& options) {
  ARROW_ASSIGN_OR_RAISE(auto sink, io::MakeFileSink(path, format, options));
  return plan::WriteNode::Make(plan, std::move(sink));
}

std::string ExplainText(const plan::PlanNodePtr& logical, const plan::PlanNodePtr& optimized) {
  return "== Logical plan ==\n" + plan::PlanToString(logical) + "\n== Optimized plan ==\n" +
         plan::PlanToString(optimized);
}

}  // namespace

arrow::Result<WriteResult> Dataset::Write(const std::string& format, const std::string& path,
                                          const WriteOptions& options) const {
  ARROW_ASSIGN_OR_RAISE(auto write, PlanWrite(plan_, format, path, options));
  ARROW_ASSIGN_OR_RAISE(auto optimized, optimizer::Optimize(write));
  return exec::RunWrite(optimized, last_stats_, session_.state());
}

arrow::Result<WriteResult> Dataset::WriteParquet(const std::string& path,
                                                 const WriteOptions& options) const {
  return Write("parquet", path, options);
}

arrow::Result<WriteResult> Dataset::WriteCsv(const std::string& path,
                                             const WriteOptions& options) const {
  return Write("csv", path, options);
}

arrow::Result<WriteResult> Dataset::WriteJson(const std::string& path,
                                              const WriteOptions& options) const {
  return Write("json", path, options);
}

arrow::Result<std::string> Dataset::Explain() const {
  ARROW_ASSIGN_OR_RAISE(auto optimized, optimizer::Optimize(plan_));
  return ExplainText(plan_, optimized);
}

arrow::Result<std::string> Dataset::ExplainWrite(const std::string& format, const std::string& path,
                                                 const WriteOptions& options) const {
  ARROW_ASSIGN_OR_RAISE(auto write, PlanWrite(plan_, format, path, options));
  ARROW_ASSIGN_OR_RAISE(auto optimized, optimizer::Optimize(write));
  return ExplainText(write, optimized);
}

ExecutionStats Dataset::LastStats() const { return *last_stats_; }

arrow::Result<std::shared_ptr<arrow::Table>> Dataset::LastRejects() const {
  return io::SortedRejects(last_stats_->rejects);
}


arrow::Result<JoinType> ParseJoinType(const std::string& text) {
  std::string how;
  for (char c : text) how += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (how == "inner") return JoinType::kInner;
  if (how == "left" || how == "left_outer") return JoinType::kLeft;
  if (how == "right" || how == "right_outer") return JoinType::kRight;
  if (how == "outer" || how == "full" || how == "full_outer") return JoinType::kOuter;
  if (how == "semi" || how == "left_semi") return JoinType::kSemi;
  if (how == "anti" || how == "left_anti") return JoinType::kAnti;
  return arrow::Status::Invalid("unknown join type '", text,
                                "'; expected inner, left, right, outer (or full), semi or anti");
}

std::string JoinTypeName(JoinType how) {
  switch (how) {
    case JoinType::kInner:
      return "inner";
    case JoinType::kLeft:
      return "left";
    case JoinType::kRight:
      return "right";
    case JoinType::kOuter:
      return "outer";
    case JoinType::kSemi:
      return "semi";
    case JoinType::kAnti:
      return "anti";
  }
  return "join type " + std::to_string(static_cast<int>(how));
}

}  // namespace sluice
