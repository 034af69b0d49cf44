#include "compute/parallel_sort.h"

#include <arrow/compute/api_vector.h>
#include <arrow/table.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>

#include "compute/row_comparator.h"

namespace sluice::compute {

namespace {

namespace cp = arrow::compute;

/// Below this many rows per part a parallel sort costs more in start-up than it saves.
constexpr int64_t kMinRowsPerPart = 64 * 1024;
/// Key bytes per part at most (buffers as referenced, so slices count in full).
constexpr int64_t kMaxPartKeyBytes = int64_t{1} << 30;
constexpr int64_t kMaxParts = 256;
/// Merged entries carry their part in the bits above the row within the part.
constexpr int kPartShift = 40;
constexpr uint64_t kRowMask = (uint64_t{1} << kPartShift) - 1;

/// Runs `work(0..count-1)` on `count` threads (the calling one included) and returns the
/// first failure.
arrow::Status RunConcurrently(int count, const std::function<arrow::Status(int)>& work) {
  std::vector<arrow::Status> results(count);
  std::vector<std::thread> threads;
  threads.reserve(count - 1);
  for (int t = 1; t < count; ++t) {
    threads.emplace_back([&, t] { results[t] = work(t); });
  }
  results[0] = work(0);
  for (auto& thread : threads) thread.join();
  for (auto& status : results) ARROW_RETURN_NOT_OK(status);
  return arrow::Status::OK();
}

/// One contiguous part of the input: its key columns as one batch and their sorted order.
struct SortedPart {
  std::shared_ptr<arrow::RecordBatch> keys;
  RowComparator::KeyColumns key_columns;
  std::shared_ptr<arrow::UInt64Array> order;
  int64_t first_row = 0;  // of the part, in the whole input
};

class PartMerger {
 public:
  PartMerger(const RowComparator& comparator, const std::vector<SortedPart>& parts)
      : comparator_(comparator), parts_(parts) {}

  /// Whether packed entry `a` sorts strictly before packed entry `b`.
  bool Less(uint64_t a, uint64_t b) const {
    return comparator_.Compare(
               parts_[a >> kPartShift].key_columns, static_cast<int64_t>(a & kRowMask),
               parts_[b >> kPartShift].key_columns, static_cast<int64_t>(b & kRowMask)) < 0;
  }

  /// How many of the first `k` merged entries come from `a` (ties go to `a`, the earlier
  /// part, which keeps the merge stable).
  int64_t CoRank(const uint64_t* a, int64_t na, const uint64_t* b, int64_t nb, int64_t k) const {
    int64_t lo = std::max<int64_t>(0, k - nb);
    int64_t hi = std::min<int64_t>(k, na);
    while (lo < hi) {
      const int64_t i = lo + (hi - lo) / 2;
      const int64_t j = k - i;
      // Taking i from a is too few when a[i] <= b[j-1]: a[i] goes out before b[j-1].
      if (j > 0 && !Less(b[j - 1], a[i])) {
        lo = i + 1;
      } else {
        hi = i;
      }
    }
    return lo;
  }

  void Merge(const uint64_t* a, int64_t na, const uint64_t* b, int64_t nb, uint64_t* out) const {
    int64_t i = 0;
    int64_t j = 0;
    while (i < na && j < nb) *out++ = Less(b[j], a[i]) ? b[j++] : a[i++];
    while (i < na) *out++ = a[i++];
    while (j < nb) *out++ = b[j++];
  }

 private:
  const RowComparator& comparator_;
  const std::vector<SortedPart>& parts_;
};

arrow::Result<std::shared_ptr<arrow::UInt64Array>> SortIndicesOnce(
    const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches,
    const std::shared_ptr<arrow::Schema>& schema, const std::vector<SortKey>& keys,
    cp::ExecContext* ctx) {
  ARROW_ASSIGN_OR_RAISE(auto table, arrow::Table::FromRecordBatches(schema, batches));
  ARROW_ASSIGN_OR_RAISE(auto order,
                        cp::SortIndices(arrow::Datum(table), ArrowSortOptions(keys), ctx));
  return std::static_pointer_cast<arrow::UInt64Array>(order);
}

}  // namespace

cp::SortOptions ArrowSortOptions(const std::vector<SortKey>& keys) {
  std::vector<cp::SortKey> sort_keys;
  for (const auto& key : keys) {
    sort_keys.emplace_back(arrow::FieldRef(key.column),
                           key.descending ? cp::SortOrder::Descending : cp::SortOrder::Ascending,
                           key.nulls_first ? cp::NullPlacement::AtStart : cp::NullPlacement::AtEnd);
  }
  return cp::SortOptions(std::move(sort_keys));
}

arrow::Result<std::shared_ptr<arrow::UInt64Array>> SortIndicesInParallel(
    const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches,
    const std::shared_ptr<arrow::Schema>& schema, const std::vector<SortKey>& keys, int threads,
    cp::ExecContext* ctx) {
  int64_t total = 0;
  for (const auto& batch : batches) total += batch->num_rows();
  // The key columns alone, each key column once.
  std::vector<int> key_indices;
  for (const auto& key : keys) {
    const int index = schema->GetFieldIndex(key.column);
    if (index < 0) return arrow::Status::KeyError("sort: no column named '", key.column, "'");
    if (std::find(key_indices.begin(), key_indices.end(), index) == key_indices.end()) {
      key_indices.push_back(index);
    }
  }
  arrow::FieldVector key_fields;
  for (int index : key_indices) key_fields.push_back(schema->field(index));
  auto key_schema = arrow::schema(std::move(key_fields));
  auto comparator = RowComparator::Make(*key_schema, keys);
  // A part's key columns become one batch, so a part's string keys must stay well inside
  // the 2 GiB a string column's offsets can address: more parts when the keys are large.
  int64_t key_bytes = 0;
  for (const auto& batch : batches) {
    for (int index : key_indices) {
      for (const auto& buffer : batch->column_data(index)->buffers) {
        if (buffer) key_bytes += buffer->size();
      }
    }
  }
  const int64_t parts_wanted =
      std::max<int64_t>(std::min<int64_t>(threads, total / kMinRowsPerPart),
                        (key_bytes + kMaxPartKeyBytes - 1) / kMaxPartKeyBytes);
  const int parts_count = static_cast<int>(std::clamp<int64_t>(parts_wanted, 1, kMaxParts));
  // One part still gains: SortIndices on one concatenated batch of the keys is several
  // times faster than on a table of many chunks.
  if (!comparator.ok() || (parts_count == 1 && batches.size() <= 1)) {
    return SortIndicesOnce(batches, schema, keys, ctx);
  }

  // Contiguous parts of nearly equal row counts; a batch may be split between two parts.
  std::vector<std::vector<std::shared_ptr<arrow::RecordBatch>>> part_batches(parts_count);
  std::vector<SortedPart> parts(parts_count);
  {
    int part = 0;
    int64_t filled = 0;
    int64_t row = 0;
    const auto part_size = [&](int p) {
      return total / parts_count + (p < total % parts_count ? 1 : 0);
    };
    for (const auto& batch : batches) {
      ARROW_ASSIGN_OR_RAISE(auto keys_only, batch->SelectColumns(key_indices));
      int64_t offset = 0;
      while (offset < keys_only->num_rows()) {
        const int64_t take = std::min(keys_only->num_rows() - offset, part_size(part) - filled);
        part_batches[part].push_back(keys_only->Slice(offset, take));
        offset += take;
        filled += take;
        row += take;
        if (filled == part_size(part) && part + 1 < parts_count) {
          ++part;
          filled = 0;
          parts[part].first_row = row;
        }
      }
    }
  }

  const auto sort_part = [&](int p) -> arrow::Status {
    SortedPart& part = parts[p];
    if (part_batches[p].empty()) {
      ARROW_ASSIGN_OR_RAISE(part.keys,
                            arrow::RecordBatch::MakeEmpty(key_schema, ctx->memory_pool()));
    } else {
      ARROW_ASSIGN_OR_RAISE(auto table,
                            arrow::Table::FromRecordBatches(key_schema, part_batches[p]));
      ARROW_ASSIGN_OR_RAISE(part.keys, table->CombineChunksToBatch(ctx->memory_pool()));
    }
    ARROW_ASSIGN_OR_RAISE(auto order,
                          cp::SortIndices(arrow::Datum(part.keys), ArrowSortOptions(keys), ctx));
    part.order = std::static_pointer_cast<arrow::UInt64Array>(order);
    part.key_columns = comparator->KeysOf(*part.keys);
    return arrow::Status::OK();
  };
  std::atomic<int> next_part{0};
  ARROW_RETURN_NOT_OK(RunConcurrently(std::min(threads, parts_count), [&](int) -> arrow::Status {
    for (int p = next_part++; p < parts_count; p = next_part++) {
      ARROW_RETURN_NOT_OK(sort_part(p));
    }
    return arrow::Status::OK();
  }));

  // Packed (part, row) entries; runs merged pairwise, level by level.
  ARROW_ASSIGN_OR_RAISE(auto buffer_a,
                        arrow::AllocateBuffer(total * sizeof(uint64_t), ctx->memory_pool()));
  ARROW_ASSIGN_OR_RAISE(auto buffer_b,
                        arrow::AllocateBuffer(total * sizeof(uint64_t), ctx->memory_pool()));
  auto* current = reinterpret_cast<uint64_t*>(buffer_a->mutable_data());
  auto* next = reinterpret_cast<uint64_t*>(buffer_b->mutable_data());
  std::vector<int64_t> run_starts;
  {
    int64_t at = 0;
    for (int p = 0; p < parts_count; ++p) {
      run_starts.push_back(at);
      const uint64_t* order = parts[p].order->raw_values();
      const uint64_t tag = static_cast<uint64_t>(p) << kPartShift;
      for (int64_t r = 0; r < parts[p].order->length(); ++r) current[at + r] = tag | order[r];
      at += parts[p].order->length();
    }
    run_starts.push_back(at);
  }
  PartMerger merger(*comparator, parts);
  while (run_starts.size() > 2) {
    std::vector<int64_t> merged_starts;
    // Each output range of each pair merge is one piece of work.
    struct Piece {
      const uint64_t* a;
      int64_t na;
      const uint64_t* b;
      int64_t nb;
      uint64_t* out;
    };
    std::vector<Piece> pieces;
    for (size_t r = 0; r + 1 < run_starts.size(); r += 2) {
      merged_starts.push_back(run_starts[r]);
      const int64_t begin = run_starts[r];
      if (r + 2 >= run_starts.size()) {  // an odd run out: carried to the next level
        std::copy(current + begin, current + run_starts[r + 1], next + begin);
        continue;
      }
      const uint64_t* a = current + begin;
      const int64_t na = run_starts[r + 1] - begin;
      const uint64_t* b = current + run_starts[r + 1];
      const int64_t nb = run_starts[r + 2] - run_starts[r + 1];
      const int64_t length = na + nb;
      int64_t previous_k = 0;
      int64_t previous_i = 0;
      for (int t = 1; t <= threads; ++t) {
        const int64_t k = length * t / threads;
        const int64_t i = t == threads ? na : merger.CoRank(a, na, b, nb, k);
        pieces.push_back(Piece{a + previous_i, i - previous_i, b + (previous_k - previous_i),
                               (k - i) - (previous_k - previous_i), next + begin + previous_k});
        previous_k = k;
        previous_i = i;
      }
    }
    merged_starts.push_back(run_starts.back());
    std::atomic<size_t> next_piece{0};
    ARROW_RETURN_NOT_OK(RunConcurrently(threads, [&](int) -> arrow::Status {
      for (size_t p = next_piece++; p < pieces.size(); p = next_piece++) {
        merger.Merge(pieces[p].a, pieces[p].na, pieces[p].b, pieces[p].nb, pieces[p].out);
      }
      return arrow::Status::OK();
    }));
    std::swap(current, next);
    std::swap(buffer_a, buffer_b);
    run_starts = std::move(merged_starts);
  }

  // Packed entries to indices into the whole input, in place.
  for (int64_t r = 0; r < total; ++r) {
    current[r] =
        static_cast<uint64_t>(parts[current[r] >> kPartShift].first_row) + (current[r] & kRowMask);
  }
  return std::make_shared<arrow::UInt64Array>(total, std::move(buffer_a));
}

}  // namespace sluice::compute
