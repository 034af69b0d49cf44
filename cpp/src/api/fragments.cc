// sluice/fragments.h: the public face of plan/fragments.h and physical/fragment_execution.h,
// in bytes and Arrow tables.

#include "sluice/fragments.h"

#include "api/engine_codecs.h"
#include "physical/fragment_execution.h"
#include "connectors/files/file_sink.h"
#include "connectors/memory/memory_sources.h"
#include "optimizer/optimizer.h"
#include "plan/fragments.h"
#include "plan/plan_serialization.h"

namespace sluice {

namespace {

FragmentExchange ToPublic(const plan::Exchange& exchange) {
  return FragmentExchange{exchange.KindName(), exchange.keys, exchange.sort_keys,
                          exchange.partitions};
}

arrow::Result<plan::Exchange> FromPublic(const FragmentExchange& exchange) {
  using Kind = plan::Exchange::Kind;
  plan::Exchange out;
  if (exchange.kind == "gather") {
    out.kind = Kind::kGather;
  } else if (exchange.kind == "forward") {
    out.kind = Kind::kForward;
  } else if (exchange.kind == "hash") {
    out.kind = Kind::kHash;
  } else if (exchange.kind == "range") {
    out.kind = Kind::kRange;
  } else if (exchange.kind == "blocks") {
    out.kind = Kind::kBlocks;
  } else {
    return arrow::Status::Invalid("unknown exchange '", exchange.kind,
                                  "'; expected gather, forward, hash, range or blocks");
  }
  if (exchange.partitions <= 0) {
    return arrow::Status::Invalid("an exchange into ", exchange.partitions, " partitions");
  }
  out.keys = exchange.keys;
  out.sort_keys = exchange.sort_keys;
  out.partitions = exchange.partitions;
  return out;
}

ScanSplit ToPublic(const plan::Split& split) {
  return ScanSplit{split.label, split.payload, split.rows, split.bytes};
}

plan::Split FromPublic(const ScanSplit& split) {
  return plan::Split{split.label, split.payload, split.rows, split.bytes};
}

}  // namespace

// ---- FragmentedWrite

FragmentedWrite::~FragmentedWrite() = default;

arrow::Result<WriteResult> FragmentedWrite::Commit(
    const std::vector<std::shared_ptr<arrow::Table>>& task_outputs) {
  return write_->Commit(task_outputs);
}

// ---- FragmentedPlan

FragmentedPlan::~FragmentedPlan() = default;
FragmentedPlan::FragmentedPlan(FragmentedPlan&&) noexcept = default;
FragmentedPlan& FragmentedPlan::operator=(FragmentedPlan&&) noexcept = default;

arrow::Result<FragmentedPlan> FragmentedPlan::Cut(const Dataset& dataset, int hash_partitions) {
  return CutPlan(dataset.plan(), dataset.session(), hash_partitions);
}

arrow::Result<FragmentedPlan> FragmentedPlan::CutWrite(const Dataset& dataset,
                                                       const std::string& format,
                                                       const std::string& path,
                                                       const WriteOptions& options,
                                                       int hash_partitions) {
  ARROW_ASSIGN_OR_RAISE(auto sink, io::MakeFileSink(path, format, options));
  ARROW_ASSIGN_OR_RAISE(auto write, plan::WriteNode::Make(dataset.plan(), std::move(sink)));
  return CutPlan(write, dataset.session(), hash_partitions);
}

arrow::Result<FragmentedPlan> FragmentedPlan::CutPlan(const plan::PlanNodePtr& logical,
                                                      const Session& session, int hash_partitions) {
  ARROW_ASSIGN_OR_RAISE(auto optimized, optimizer::Optimize(logical));
  ARROW_ASSIGN_OR_RAISE(auto cut, plan::CutIntoFragments(optimized, hash_partitions));
  FragmentedPlan out;
  out.session_ = session;
  const plan::PlanCodecs codecs = EngineCodecs(out.session_.state());
  for (const auto& fragment : cut.fragments) {
    FragmentInfo info;
    info.id = fragment.id;
    ARROW_ASSIGN_OR_RAISE(info.plan, plan::SerializePlan(fragment.plan, codecs));
    info.inputs = fragment.inputs;
    info.scans = static_cast<int>(fragment.scans.size());
    info.output = ToPublic(fragment.output);
    out.fragments_.push_back(std::move(info));
  }
  cut.schema = cut.write ? cut.write->input()->schema() : optimized->schema();
  out.plan_ = std::make_unique<plan::FragmentPlan>(std::move(cut));
  return out;
}

bool FragmentedPlan::writes() const { return plan_->write != nullptr; }

std::shared_ptr<arrow::Schema> FragmentedPlan::schema() const { return plan_->schema; }

std::string FragmentedPlan::ToString() const { return plan_->ToString(); }

arrow::Result<std::vector<ScanSplit>> FragmentedPlan::ListSplits(int fragment, int scan,
                                                                 int64_t target_bytes) const {
  if (fragment < 0 || fragment >= static_cast<int>(plan_->fragments.size())) {
    return arrow::Status::IndexError("no fragment ", fragment);
  }
  const auto& scans = plan_->fragments[fragment].scans;
  if (scan < 0 || scan >= static_cast<int>(scans.size())) {
    return arrow::Status::IndexError("fragment ", fragment, " has no scan ", scan);
  }
  if (target_bytes <= 0) return arrow::Status::Invalid("target_bytes must be positive");
  ARROW_ASSIGN_OR_RAISE(auto splits,
                        scans[scan]->spec()->ListSplits(scans[scan]->pushdown(), target_bytes));
  std::vector<ScanSplit> out;
  for (const auto& split : splits) out.push_back(ToPublic(split));
  return out;
}

arrow::Result<std::unique_ptr<FragmentedWrite>> FragmentedPlan::BeginWrite() const {
  if (!plan_->write) return arrow::Status::Invalid("the plan does not write");
  std::unique_ptr<FragmentedWrite> out(new FragmentedWrite());
  ARROW_ASSIGN_OR_RAISE(out->write_, exec::FragmentWrite::Begin(*plan_->write, session_.state()));
  out->writer_ = FragmentWriter{out->write_->task_writer().kind, out->write_->task_writer().payload};
  return out;
}

// ---- Tasks and exchanges

arrow::Result<std::vector<std::shared_ptr<arrow::Table>>> RunFragmentTask(
    const FragmentTaskSpec& spec, const Session& session) {
  exec::FragmentTask task;
  ARROW_ASSIGN_OR_RAISE(task.plan,
                        plan::DeserializePlan(spec.plan, EngineCodecs(session.state())));
  if (spec.splits) {
    std::vector<std::vector<plan::Split>> splits;
    for (const auto& scan : *spec.splits) {
      std::vector<plan::Split> converted;
      for (const auto& split : scan) converted.push_back(FromPublic(split));
      splits.push_back(std::move(converted));
    }
    task.splits = std::move(splits);
  }
  task.inputs = spec.inputs;
  ARROW_ASSIGN_OR_RAISE(task.output, FromPublic(spec.output));
  task.range_boundaries = spec.range_boundaries;
  if (spec.writer) task.task_writer = plan::SerializedPart{spec.writer->kind, spec.writer->payload};
  task.task_index = spec.task_index;
  exec::FragmentTaskCodecs codecs;
  codecs.table_source = io::MakeTableSource;
  codecs.open_task_writer = io::DeserializeTaskWriter;
  return exec::RunFragmentTask(task, codecs, session.state());
}

arrow::Result<std::shared_ptr<arrow::Table>> SampleRangeBoundaries(
    const std::vector<std::shared_ptr<arrow::Table>>& tables, const std::vector<SortKey>& keys,
    int partitions, int64_t sample_rows) {
  return exec::SampleRangeBoundaries(tables, keys, partitions, sample_rows,
                                     arrow::default_memory_pool());
}

arrow::Result<std::vector<std::shared_ptr<arrow::Table>>> PartitionFragmentOutput(
    const std::shared_ptr<arrow::Table>& table, const FragmentExchange& exchange,
    const std::shared_ptr<arrow::Table>& range_boundaries) {
  if (!table) return arrow::Status::Invalid("no table to partition");
  ARROW_ASSIGN_OR_RAISE(auto converted, FromPublic(exchange));
  return exec::PartitionTable(table, converted, range_boundaries, arrow::default_memory_pool());
}

arrow::Result<std::vector<std::shared_ptr<arrow::Table>>> CutIntoBlocks(
    const std::vector<std::shared_ptr<arrow::Table>>& tables, int blocks) {
  return exec::CutIntoBlocks(tables, blocks);
}

}  // namespace sluice
