#pragma once

#include <arrow/record_batch.h>
#include <arrow/result.h>
#include <arrow/table.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/execution_stats.h"
#include "sluice/expression.h"
#include "sluice/options.h"
#include "sluice/session.h"
#include "sluice/udf.h"

namespace sluice {

namespace plan {
class PlanNode;
}

/// One sort key.
struct SortKey {
  std::string column;
  bool descending = false;
  /// Where nulls go; Ray Data and DuckDB put them last.
  bool nulls_first = false;
};

/// One aggregate of a group-by. `function` is count, count_all, sum, mean, min, max,
/// std, var, count_distinct, first or last; `column` is empty for count().
struct Aggregate {
  std::string function;
  std::string column;
  /// Output column name; empty means Ray Data's: "count()", "sum(x)", "mean(x)".
  std::string output_name;
};

/// A lazy, immutable dataset: a logical plan, the session it runs in, plus the entry
/// points that run it. Every transformation returns a new Dataset (in the same session)
/// and runs nothing; Count, ToTable, Execute and the Write* calls optimize the plan and
/// run it on the streaming executor.
class Dataset {
 public:
  /// Parquet files, directories (read recursively, hidden `_`/`.` entries skipped) or globs.
  static arrow::Result<Dataset> ReadParquet(const std::vector<std::string>& paths,
                                            const ReadParquetOptions& options = {},
                                            const Session& session = Session::Default());
  static arrow::Result<Dataset> ReadCsv(const std::vector<std::string>& paths,
                                        const ReadCsvOptions& options = {},
                                        const Session& session = Session::Default());
  static arrow::Result<Dataset> ReadJson(const std::vector<std::string>& paths,
                                         const ReadJsonOptions& options = {},
                                         const Session& session = Session::Default());
  /// One row per line in column "text".
  static arrow::Result<Dataset> ReadText(const std::vector<std::string>& paths,
                                         const ReadTextOptions& options = {},
                                         const Session& session = Session::Default());
  /// Files of `format` (a name or alias, sluice/formats.h) with that format's options:
  /// the same as the Read* call of the format.
  static arrow::Result<Dataset> Read(const std::string& format,
                                     const std::vector<std::string>& paths,
                                     const ReadOptions& options,
                                     const Session& session = Session::Default());
  static arrow::Result<Dataset> FromTable(std::shared_ptr<arrow::Table> table,
                                          const Session& session = Session::Default());
  /// Integers 0..n-1 in column "id".
  static arrow::Result<Dataset> Range(int64_t n, const Session& session = Session::Default());

  arrow::Result<Dataset> Filter(Expression predicate) const;
  /// Computes `exprs` as columns `names`, in that order, and drops every other column.
  arrow::Result<Dataset> Project(std::vector<Expression> exprs,
                                 std::vector<std::string> names) const;
  arrow::Result<Dataset> SelectColumns(const std::vector<std::string>& columns) const;
  arrow::Result<Dataset> DropColumns(const std::vector<std::string>& columns) const;
  arrow::Result<Dataset> RenameColumns(
      const std::vector<std::pair<std::string, std::string>>& old_to_new) const;
  /// Adds (or replaces) one column computed by `expr`.
  arrow::Result<Dataset> WithColumn(const std::string& name, Expression expr) const;
  arrow::Result<Dataset> MapBatches(BatchFunctionFactory factory,
                                    MapBatchesOptions options = {}) const;
  arrow::Result<Dataset> Limit(int64_t n) const;
  arrow::Result<Dataset> Sort(std::vector<SortKey> keys) const;
  arrow::Result<Dataset> GroupByAggregate(std::vector<std::string> keys,
                                          std::vector<Aggregate> aggregates) const;
  /// Without keys: the rows in order, cut into `num_blocks` blocks. With keys: block i
  /// holds the rows whose keys hash to i (equal keys share a block; spills like a group-by).
  arrow::Result<Dataset> Repartition(int num_blocks, std::vector<std::string> keys = {}) const;
  /// One row per distinct combination of `columns` (every column when empty); with a
  /// subset, the other columns come from the first row of each combination. Rows come out
  /// sorted by those columns. Spills like a group-by.
  arrow::Result<Dataset> Distinct(std::vector<std::string> columns = {}) const;
  arrow::Result<Dataset> Union(const std::vector<Dataset>& others) const;
  /// Joins this dataset (the left input) with `right` on equal keys, as a hash join: the
  /// right input is built into a hash table and the left one probed against it, so the
  /// smaller input should be on the right. Null keys never match. Output rows are in no
  /// defined order.
  ///
  /// Output columns: every left column in order, then the right columns in order, except
  /// a right key with the same name as its left key: such a key appears once (SQL USING;
  /// for right and outer joins it holds the right key where the left one is missing). A
  /// right column whose name a left column has gets `options.right_suffix` appended.
  /// Semi and anti joins return the left columns only.
  ///
  /// Key pairs must have the same type; integer keys of different widths or signedness
  /// are compared (and returned) as int64, dictionary keys as their values, string and
  /// binary views as plain strings and binary.
  arrow::Result<Dataset> Join(const Dataset& right, JoinOptions options) const;

  /// The output schema. Parquet reads answer from footers; a plan with a user function
  /// whose output is unknown runs until the first batch.
  arrow::Result<std::shared_ptr<arrow::Schema>> Schema() const;
  /// Row count. Parquet without a row filter answers from footers; with a native
  /// filter it reads only the filter's columns.
  arrow::Result<int64_t> Count() const;
  /// Estimated in-memory size. Parquet answers from footers (uncompressed sizes).
  arrow::Result<int64_t> SizeBytes() const;
  arrow::Result<std::shared_ptr<arrow::Table>> ToTable() const;
  /// Runs the plan and streams its output in order.
  arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> Execute() const;

  /// Writes the rows as files of `format` ("parquet", "csv", "json": a format that can
  /// be written, by name or alias) under `path`, atomically (docs/commit-protocol.md).
  arrow::Result<WriteResult> Write(const std::string& format, const std::string& path,
                                   const WriteOptions& options = {}) const;
  arrow::Result<WriteResult> WriteParquet(const std::string& path,
                                          const WriteOptions& options = {}) const;
  arrow::Result<WriteResult> WriteCsv(const std::string& path,
                                      const WriteOptions& options = {}) const;
  /// JSON lines.
  arrow::Result<WriteResult> WriteJson(const std::string& path,
                                       const WriteOptions& options = {}) const;

  /// The optimized plan, one operator per line.
  arrow::Result<std::string> Explain() const;
  /// Explain() of that write: the plan with the write at its root. Runs nothing and
  /// creates nothing; the options are checked when the write runs.
  arrow::Result<std::string> ExplainWrite(const std::string& format, const std::string& path,
                                          const WriteOptions& options = {}) const;
  /// Counters of the last execution started from this Dataset (empty before any).
  ExecutionStats LastStats() const;
  /// The bad records the last execution's readers collected (on_bad_lines "collect"),
  /// sorted by file and line: columns file, line, column, reason, record. Empty before any.
  arrow::Result<std::shared_ptr<arrow::Table>> LastRejects() const;

  /// The plan as bytes for another process (optimized first with `optimize`):
  /// NotImplemented when it holds something that cannot leave the process (a C++ user
  /// function; a file source until splits are serializable).
  arrow::Result<std::string> SerializePlan(bool optimize = false) const;
  /// A dataset over the plan SerializePlan wrote, in `session`. Damaged bytes are
  /// Invalid; every node is validated as when built in code.
  static arrow::Result<Dataset> DeserializePlan(const std::string& bytes,
                                                const Session& session = Session::Default());

  const std::shared_ptr<const plan::PlanNode>& plan() const { return plan_; }
  /// The session the dataset was made in, which runs it.
  const Session& session() const { return session_; }
  explicit Dataset(std::shared_ptr<const plan::PlanNode> plan,
                   Session session = Session::Default());

 private:
  /// `node` built on this dataset, in its session.
  arrow::Result<Dataset> Derive(arrow::Result<std::shared_ptr<const plan::PlanNode>> node) const;

  std::shared_ptr<const plan::PlanNode> plan_;
  Session session_;
  std::shared_ptr<ExecutionStats> last_stats_;
};

}  // namespace sluice
