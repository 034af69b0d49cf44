#include "operators/sorted_run_merger.h"

#include <algorithm>

#include "compute/gather_rows.h"

namespace sluice::spill {

arrow::Result<std::unique_ptr<SortedRunMerger>> SortedRunMerger::Make(
    exec::ExecContext* ctx, std::shared_ptr<arrow::Schema> schema, std::vector<SortKey> keys,
    std::vector<SpillFile> runs, int max_fan_in, int64_t spill_batch_rows,
    std::atomic<int64_t>* spilled_bytes) {
  ARROW_ASSIGN_OR_RAISE(auto comparator, compute::RowComparator::Make(*schema, keys));
  max_fan_in = std::max(2, max_fan_in);
  // One level at a time, consecutive runs merged group by group, so the runs of every
  // level stay in input order and ties keep it.
  while (static_cast<int>(runs.size()) > max_fan_in) {
    std::vector<SpillFile> next_level;
    for (size_t first = 0; first < runs.size(); first += max_fan_in) {
      const size_t last = std::min(runs.size(), first + static_cast<size_t>(max_fan_in));
      std::vector<SpillFile> group(runs.begin() + first, runs.begin() + last);
      if (group.size() == 1) {
        next_level.push_back(std::move(group[0]));
        continue;
      }
      std::unique_ptr<SortedRunMerger> partial(new SortedRunMerger(ctx, schema, comparator));
      ARROW_RETURN_NOT_OK(partial->Open(std::move(group)));
      ARROW_ASSIGN_OR_RAISE(auto writer, SpillWriter::Open(ctx->spill_directory(), "merged-run",
                                                           schema, ctx->pool(), spilled_bytes));
      while (true) {
        if (ctx->cancelled()) return arrow::Status::Cancelled("sort cancelled");
        ARROW_ASSIGN_OR_RAISE(exec::BatchPtr batch, partial->Next(spill_batch_rows));
        if (!batch) break;
        ARROW_RETURN_NOT_OK(writer->Write(*batch));
      }
      ARROW_ASSIGN_OR_RAISE(SpillFile merged, writer->Finish());
      next_level.push_back(std::move(merged));
    }
    runs = std::move(next_level);
  }
  std::unique_ptr<SortedRunMerger> merger(
      new SortedRunMerger(ctx, std::move(schema), std::move(comparator)));
  ARROW_RETURN_NOT_OK(merger->Open(std::move(runs)));
  return merger;
}

arrow::Status SortedRunMerger::Open(std::vector<SpillFile> runs) {
  cursors_.resize(runs.size());
  for (size_t r = 0; r < runs.size(); ++r) {
    Cursor& cursor = cursors_[r];
    cursor.run = static_cast<int>(r);
    ARROW_ASSIGN_OR_RAISE(cursor.stream,
                          ReadSpillFile(runs[r], ctx_->pool(), /*remove_when_done=*/true));
    ARROW_ASSIGN_OR_RAISE(bool has_rows, Advance(&cursor));
    if (has_rows) heap_.push_back(static_cast<int>(r));
  }
  std::make_heap(heap_.begin(), heap_.end(), [this](int a, int b) { return After(a, b); });
  return arrow::Status::OK();
}

arrow::Result<bool> SortedRunMerger::Advance(Cursor* cursor) {
  while (true) {
    ARROW_ASSIGN_OR_RAISE(cursor->batch, cursor->stream->Next());
    if (!cursor->batch) {
      cursor->stream.reset();
      cursor->keys.clear();
      return false;
    }
    if (cursor->batch->num_rows() == 0) continue;
    cursor->keys = comparator_.KeysOf(*cursor->batch);
    cursor->row = 0;
    cursor->source = -1;
    return true;
  }
}

bool SortedRunMerger::After(int a, int b) const {
  const Cursor& x = cursors_[a];
  const Cursor& y = cursors_[b];
  const int c = comparator_.Compare(x.keys, x.row, y.keys, y.row);
  return c != 0 ? c > 0 : x.run > y.run;
}

void SortedRunMerger::SiftDown(size_t position) {
  const size_t n = heap_.size();
  while (true) {
    const size_t left = 2 * position + 1;
    if (left >= n) return;
    size_t smallest = left;
    const size_t right = left + 1;
    if (right < n && After(heap_[left], heap_[right])) smallest = right;
    if (!After(heap_[position], heap_[smallest])) return;
    std::swap(heap_[position], heap_[smallest]);
    position = smallest;
  }
}

arrow::Result<exec::BatchPtr> SortedRunMerger::Next(int64_t max_rows) {
  if (heap_.empty()) return nullptr;
  std::vector<exec::BatchPtr> sources;
  std::vector<uint32_t> source_of;
  std::vector<uint32_t> rows;
  source_of.reserve(max_rows);
  rows.reserve(max_rows);
  while (!heap_.empty() && static_cast<int64_t>(rows.size()) < max_rows) {
    Cursor& top = cursors_[heap_[0]];
    if (top.source < 0) {
      top.source = static_cast<int>(sources.size());
      sources.push_back(top.batch);
    }
    source_of.push_back(static_cast<uint32_t>(top.source));
    rows.push_back(static_cast<uint32_t>(top.row));
    if (++top.row == top.batch->num_rows()) {
      ARROW_ASSIGN_OR_RAISE(bool has_rows, Advance(&top));
      if (!has_rows) {
        heap_[0] = heap_.back();
        heap_.pop_back();
      }
    }
    if (!heap_.empty()) SiftDown(0);
  }
  for (auto& cursor : cursors_) cursor.source = -1;
  return compute::GatherRows(schema_, sources, source_of.data(), rows.data(),
                             static_cast<int64_t>(rows.size()), ctx_->compute_context());
}

}  // namespace sluice::spill
