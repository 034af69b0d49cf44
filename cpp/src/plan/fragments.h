#pragma once

// A plan cut into fragments: the pieces between pipeline breakers that a runner (the Ray
// runner) runs as tasks on other processes, passing their outputs from one to the next.
// The cut is a plan-to-plan rewrite and runs nothing; physical/fragment_execution.h runs one
// fragment's task, and docs/fragments.md says how a runner drives them.

#include <arrow/result.h>
#include <arrow/type.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "plan/logical_plan.h"

namespace sluice::plan {

/// How a fragment's output reaches the fragment that reads it.
struct Exchange {
  enum class Kind {
    /// Every output, in task order, to the reader's one task.
    kGather,
    /// Each output to a reader task of its own, in task order (the inputs of a union).
    kForward,
    /// Rows hashed on `keys` into `partitions` (compute/row_hash.h, as repartition does);
    /// reader task p gets partition p of every output.
    kHash,
    /// Rows cut into `partitions` ranges of `sort_keys` at boundaries the runner samples
    /// from the outputs; reader task p gets range p of every output, so the reader's
    /// outputs in task order are in key order.
    kRange,
    /// The rows of every output, in order, cut into `partitions` blocks of equal size
    /// (repartition without keys); reader task p gets block p.
    kBlocks,
  };
  Kind kind = Kind::kGather;
  std::vector<std::string> keys;
  std::vector<SortKey> sort_keys;
  int partitions = 1;

  /// "gather", "forward", "hash", "range", "blocks".
  std::string KindName() const;
  std::string ToString() const;
};

/// A leaf of a fragment's plan that stands for the outputs of another fragment: its
/// `index`-th input. A runner binds it to Arrow data before running the fragment
/// (BindFragmentInputs); unbound, it cannot run. Its schema is null when the data comes
/// from a user function whose output schema is unknown until it runs.
class FragmentInputSource : public SourceSpec {
 public:
  FragmentInputSource(int index, std::shared_ptr<arrow::Schema> schema)
      : index_(index), schema_(std::move(schema)) {}
  int index() const { return index_; }
  std::string name() const override { return "FragmentInput"; }
  std::string Describe() const override { return "input " + std::to_string(index_); }
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }
  arrow::Result<std::unique_ptr<exec::TaskSource>> MakeTaskSource(
      exec::ExecContext* ctx, const Pushdown& pushdown) const override;
  arrow::Result<SerializedPart> Serialize() const override;
  /// Reads what Serialize wrote.
  static arrow::Result<std::shared_ptr<const SourceSpec>> Deserialize(const std::string& payload);

 private:
  int index_;
  std::shared_ptr<arrow::Schema> schema_;
};

inline constexpr char kFragmentInputKind[] = "fragment_input";

/// One fragment: a plan whose leaves are either all scans (SourceNodes of files or
/// memory, split among its tasks) or all fragment inputs (the outputs of `inputs`).
struct Fragment {
  int id = 0;
  PlanNodePtr plan;
  /// The fragments whose outputs feed FragmentInputSource 0, 1, ...; empty for a scan
  /// fragment. The exchange between them is each input fragment's `output`.
  std::vector<int> inputs;
  /// How this fragment's output is cut for its reader (the root's: kGather, to the driver).
  Exchange output;
  /// The scans of a scan fragment, in the order their tasks come (pre-order, left first):
  /// its tasks are the splits of scan 0, then of scan 1, ...; each task reads splits of
  /// one scan and none of the others.
  std::vector<const SourceNode*> scans;
};

/// The fragments of a plan, inputs before readers; the last is the root. When the plan
/// writes, `write` is its WriteNode: the root fragment's tasks each write their rows with
/// the sink's task writer and the driver commits their results (physical/fragment_execution.h).
struct FragmentPlan {
  std::vector<Fragment> fragments;
  std::shared_ptr<const WriteNode> write;
  /// The schema of the plan's rows (of a write: of its input); null where a user function
  /// decides it.
  std::shared_ptr<arrow::Schema> schema;
  /// The fragments and their exchanges, for explain and tests.
  std::string ToString() const;
};

/// Cuts an optimized plan at its pipeline breakers. A group-by whose aggregates combine
/// (count, sum, mean, min, max, first, last) is split into a partial aggregate in the
/// fragment below and a final one above, with a range exchange on its keys so the groups
/// come out in key order as they do in one process; other group-bys exchange their rows.
/// A sort is a range exchange, a join a hash exchange of both sides into
/// `hash_partitions`, a limit (also one pushed into a scan) a local limit below a gather
/// and the global one above, a repartition its own exchange, a union of fragments a
/// forward exchange. Running the fragments in order and passing outputs as the exchanges
/// say gives the rows the plan gives in one process (in the same order where the plan's
/// order is defined).
arrow::Result<FragmentPlan> CutIntoFragments(const PlanNodePtr& plan, int hash_partitions);

/// A group-by as a partial aggregate and a final one.
struct AggregatePhases {
  /// Makes the partial aggregate over `input` (the group-by's input, or part of it);
  /// empty when the aggregates do not combine (count_distinct, std, var): the rows
  /// themselves are exchanged then.
  std::function<arrow::Result<PlanNodePtr>(PlanNodePtr input)> make_partial;
  /// Makes the final phase over `input` (the partials, or the rows when there is no
  /// partial phase): the same output schema as the group-by.
  std::function<arrow::Result<PlanNodePtr>(PlanNodePtr input)> make_final;
};
arrow::Result<AggregatePhases> SplitAggregate(const AggregateNode& aggregate);

/// `plan` with each FragmentInputSource replaced by the source `bind` gives for its
/// index (e.g. an in-memory table of the inputs' data).
arrow::Result<PlanNodePtr> BindFragmentInputs(
    const PlanNodePtr& plan,
    const std::function<arrow::Result<std::shared_ptr<const SourceSpec>>(
        int index, const std::shared_ptr<arrow::Schema>& schema)>& bind);

/// `plan` with its scans (numbered as Fragment::scans) restricted to `splits[i]` each
/// (SourceSpec::WithSplits); a missing entry means no split. 
arrow::Result<PlanNodePtr> RestrictScans(const PlanNodePtr& plan,
                                         const std::vector<std::vector<Split>>& splits);

/// The scans of `plan` in Fragment::scans order.
std::vector<const SourceNode*> ScansOf(const PlanNodePtr& plan);

}  // namespace sluice::plan
