#pragma once

// A dataset's plan cut into fragments for a runner that spreads one job over many
// processes (the Ray runner): the driver cuts the plan and lists each scan's splits, the
// tasks run fragments on splits or on the outputs of other fragments, and the driver
// passes outputs along as each fragment's exchange says and commits a write once.
// Everything a task needs travels as bytes and Arrow tables. docs/fragments.md walks
// through a run.

#include <arrow/result.h>
#include <arrow/table.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sluice/dataset.h"
#include "sluice/session.h"

namespace sluice {

namespace plan {
struct FragmentPlan;
class PlanNode;
}
namespace exec {
class FragmentWrite;
}

/// How a fragment's output goes to the fragment that reads it: "gather" (all outputs,
/// in task order, to one task), "forward" (each output to a task of its own), "hash"
/// (rows hashed on `keys` into `partitions`), "range" (rows cut by sampled boundaries of
/// `sort_keys` into `partitions` ranges, in key order), "blocks" (all rows, in order, cut
/// into `partitions` equal blocks).
struct FragmentExchange {
  std::string kind = "gather";
  std::vector<std::string> keys;
  std::vector<SortKey> sort_keys;
  int partitions = 1;
};

/// A unit of scan work that can leave the process (plan/source_spec.h Split).
struct ScanSplit {
  std::string label;
  std::string payload;
  std::optional<int64_t> rows;
  std::optional<int64_t> bytes;
};

/// One fragment of a cut plan.
struct FragmentInfo {
  int id = 0;
  /// The fragment's plan as bytes (user functions included), for RunFragmentTask.
  std::string plan;
  /// Fragments whose outputs are this fragment's inputs 0, 1, ...; empty: it scans.
  std::vector<int> inputs;
  /// Scans the fragment reads (0 when it has inputs).
  int scans = 0;
  FragmentExchange output;
};

/// The task writer of a write begun on the driver, as bytes for the tasks.
struct FragmentWriter {
  std::string kind;
  std::string payload;
};

/// One task of a fragment (see physical/fragment_execution.h FragmentTask).
struct FragmentTaskSpec {
  std::string plan;
  /// Per scan, the splits this task reads; unset: every scan whole.
  std::optional<std::vector<std::vector<ScanSplit>>> splits;
  /// Per input, the tables this task gets, in order.
  std::vector<std::vector<std::shared_ptr<arrow::Table>>> inputs;
  FragmentExchange output;
  std::shared_ptr<arrow::Table> range_boundaries;
  std::optional<FragmentWriter> writer;
  int64_t task_index = 0;
};

/// A write in progress whose tasks run as fragment tasks. Destroyed uncommitted, it
/// aborts: staged files are removed and the target stays as it was.
class FragmentedWrite {
 public:
  ~FragmentedWrite();
  const FragmentWriter& writer() const { return writer_; }
  /// Publishes the write once, with every root task's output in task order.
  arrow::Result<WriteResult> Commit(const std::vector<std::shared_ptr<arrow::Table>>& task_outputs);

 private:
  friend class FragmentedPlan;
  FragmentedWrite() = default;
  std::unique_ptr<exec::FragmentWrite> write_;
  FragmentWriter writer_;
};

class FragmentedPlan {
 public:
  /// The dataset's optimized plan cut at its pipeline breakers; joins exchange into
  /// `hash_partitions`, sorts and group-bys into as many ranges.
  static arrow::Result<FragmentedPlan> Cut(const Dataset& dataset, int hash_partitions);
  /// The same for writing the dataset as `format` files under `path` (Dataset::Write).
  static arrow::Result<FragmentedPlan> CutWrite(const Dataset& dataset, const std::string& format,
                                                const std::string& path, const WriteOptions& options,
                                                int hash_partitions);
  ~FragmentedPlan();
  FragmentedPlan(FragmentedPlan&&) noexcept;
  FragmentedPlan& operator=(FragmentedPlan&&) noexcept;

  /// Inputs before readers; the last is the root, whose outputs in task order are the
  /// dataset's rows (or, for a write, the results to commit).
  const std::vector<FragmentInfo>& fragments() const { return fragments_; }
  bool writes() const;
  /// The schema of the rows (a write: of the rows written), as one process gives them;
  /// null where a user function decides it. A runner casts the root's outputs to it.
  std::shared_ptr<arrow::Schema> schema() const;
  /// The fragments, their exchanges and plans.
  std::string ToString() const;
  /// The splits of scan `scan` of fragment `fragment`, each of about `target_bytes`.
  arrow::Result<std::vector<ScanSplit>> ListSplits(int fragment, int scan,
                                                   int64_t target_bytes) const;
  /// Begins the plan's write on this process (the driver).
  arrow::Result<std::unique_ptr<FragmentedWrite>> BeginWrite() const;

 private:
  FragmentedPlan() = default;
  static arrow::Result<FragmentedPlan> CutPlan(const std::shared_ptr<const plan::PlanNode>& plan,
                                               const Session& session, int hash_partitions);
  std::unique_ptr<plan::FragmentPlan> plan_;
  std::vector<FragmentInfo> fragments_;
  Session session_ = Session::Default();
};

/// Runs one fragment task in `session`: its output tables (`partitions` of them for a
/// hash or range output, else one; for a write, the task's results).
arrow::Result<std::vector<std::shared_ptr<arrow::Table>>> RunFragmentTask(
    const FragmentTaskSpec& task, const Session& session = Session::Default());

/// Boundaries for a range exchange, sampled from a fragment's outputs.
arrow::Result<std::shared_ptr<arrow::Table>> SampleRangeBoundaries(
    const std::vector<std::shared_ptr<arrow::Table>>& tables, const std::vector<SortKey>& keys,
    int partitions, int64_t sample_rows = 10000);
/// One output cut as `exchange` says (hash or range; other kinds: the table itself).
arrow::Result<std::vector<std::shared_ptr<arrow::Table>>> PartitionFragmentOutput(
    const std::shared_ptr<arrow::Table>& table, const FragmentExchange& exchange,
    const std::shared_ptr<arrow::Table>& range_boundaries);
/// The rows of `tables`, in order, as `blocks` equal blocks (a "blocks" exchange).
arrow::Result<std::vector<std::shared_ptr<arrow::Table>>> CutIntoBlocks(
    const std::vector<std::shared_ptr<arrow::Table>>& tables, int blocks);

}  // namespace sluice
