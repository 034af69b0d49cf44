#include "operators/write_operator.h"

#include <arrow/builder.h>
#include <arrow/compute/api_vector.h>
#include <arrow/compute/cast.h>
#include <arrow/compute/exec.h>
#include <arrow/compute/row/grouper.h>
#include <arrow/io/buffered.h>
#include <arrow/util/byte_size.h>
#include <arrow/util/io_util.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <mutex>
#include <set>

#include "compute/gather_rows.h"
#include "runtime/exec_context.h"
#include <sys/resource.h>

namespace sluice::io {

namespace {

// Output streams buffer this much before a write reaches the filesystem; a partitioned
// write keeps many files open, so less each.
constexpr int64_t kStreamBufferBytes = 1 << 20;
constexpr int64_t kPartitionStreamBufferBytes = 256 << 10;
// Batches with rows of several partitions are split once this many rows have gathered.
constexpr int64_t kSplitRows = 64 * 1024;

std::string SchemaColumnNames(const arrow::Schema& schema) {
  std::string names = "[";
  for (int i = 0; i < schema.num_fields(); ++i) {
    if (i > 0) names += ", ";
    names += schema.field(i)->name();
  }
  return names + "]";
}

/// How the columns of the written rows split into directory names and file contents.
struct WriteLayout {
  std::shared_ptr<arrow::Schema> input_schema;
  std::vector<int> partition_indices;
  /// Partition column types as grouped: dictionaries are decoded first, because a
  /// grouper cannot unify dictionaries that differ between batches.
  std::vector<std::shared_ptr<arrow::DataType>> key_types;
  std::vector<int> data_indices;
  std::shared_ptr<arrow::Schema> file_schema;
};

arrow::Result<std::shared_ptr<const WriteLayout>> MakeLayout(
    const std::shared_ptr<arrow::Schema>& schema, const std::vector<std::string>& partition_cols) {
  ARROW_RETURN_NOT_OK(ValidatePartitionColumns(*schema, partition_cols));
  auto layout = std::make_shared<WriteLayout>();
  layout->input_schema = schema;
  std::set<int> partitioned;
  for (const auto& name : partition_cols) {
    const int index = schema->GetFieldIndex(name);
    layout->partition_indices.push_back(index);
    partitioned.insert(index);
    auto type = schema->field(index)->type();
    if (type->id() == arrow::Type::DICTIONARY) {
      type = static_cast<const arrow::DictionaryType&>(*type).value_type();
    }
    layout->key_types.push_back(std::move(type));
  }
  arrow::FieldVector file_fields;
  for (int i = 0; i < schema->num_fields(); ++i) {
    if (partitioned.count(i)) continue;
    layout->data_indices.push_back(i);
    file_fields.push_back(schema->field(i));
  }
  layout->file_schema = arrow::schema(std::move(file_fields), schema->metadata());
  return layout;
}

/// Same column names and types; nullability and metadata may differ between batches.
bool SameColumns(const arrow::Schema& a, const arrow::Schema& b) {
  if (a.num_fields() != b.num_fields()) return false;
  for (int i = 0; i < a.num_fields(); ++i) {
    if (a.field(i)->name() != b.field(i)->name() ||
        !a.field(i)->type()->Equals(*b.field(i)->type())) {
      return false;
    }
  }
  return true;
}

struct WriteGlobalState : exec::OperatorState {
  std::atomic<int64_t> next_task_id{0};
  /// Bytes of buffered partition rows one task may hold before it flushes.
  int64_t task_buffer_bytes = 0;
  /// Rows of a partition wait in memory until this many bytes have gathered, so each of
  /// its files gets a few large row groups rather than a small one per input batch.
  int64_t partition_flush_bytes = 0;
  /// Files one task keeps open at most; beyond it the least recently written one is
  /// closed (later rows of that partition go to a new file). An open partition file holds
  /// no rows between flushes, only its stream buffer, so the budget allows many: enough
  /// that a task writing to a few hundred partitions does not close and reopen files.
  int max_open_files = 0;
  std::mutex mutex;
  /// Fixed by the first batch any task sees; every later batch must have its columns.
  std::shared_ptr<const WriteLayout> layout;
};

/// The file of one partition within one task, and the rows waiting for it.
struct PartitionOutput {
  explicit PartitionOutput(std::string dir) : dir(std::move(dir)) {}

  std::string dir;  // relative to the staging directory; empty when not partitioned
  bool dir_created = false;
  std::vector<std::shared_ptr<arrow::RecordBatch>> pending;
  int64_t pending_bytes = 0;

  std::unique_ptr<FormatWriter> writer;  // the open file, if any
  std::string path;
  int64_t file_seq = 0;
  int64_t file_rows = 0;
  int64_t next_file_seq = 0;
  uint64_t last_write = 0;  // task-local clock, to close the least recently written file
};

struct WriteTaskState : exec::OperatorState {
  int64_t task_id = 0;
  std::shared_ptr<const WriteLayout> layout;
  std::unique_ptr<arrow::compute::Grouper> grouper;
  std::vector<PartitionOutput> partitions;  // indexed by group id
  /// Batches (data columns) with rows of several partitions, and their partition ids,
  /// waiting to be split together.
  std::vector<std::shared_ptr<arrow::RecordBatch>> unsplit;
  std::vector<std::shared_ptr<arrow::UInt32Array>> unsplit_ids;
  int64_t unsplit_rows = 0;
  int64_t unsplit_bytes = 0;
  int64_t pending_bytes = 0;
  int open_files = 0;
  uint64_t clock = 0;
  std::vector<StagedFile> finished_files;
};

std::shared_ptr<arrow::Schema> StagedFileSchema() {
  static const auto schema = arrow::schema({
      arrow::field("task_id", arrow::int64(), false),
      arrow::field("partition_dir", arrow::utf8(), false),
      arrow::field("file_seq", arrow::int64(), false),
      arrow::field("staged_path", arrow::utf8(), false),
      arrow::field("rows", arrow::int64(), false),
      arrow::field("bytes", arrow::int64(), false),
  });
  return schema;
}

arrow::Result<std::shared_ptr<arrow::RecordBatch>> StagedFilesToBatch(
    const std::vector<StagedFile>& files) {
  arrow::Int64Builder task_ids, seqs, rows, bytes;
  arrow::StringBuilder dirs, paths;
  for (const auto& file : files) {
    ARROW_RETURN_NOT_OK(task_ids.Append(file.task_id));
    ARROW_RETURN_NOT_OK(dirs.Append(file.partition_dir));
    ARROW_RETURN_NOT_OK(seqs.Append(file.file_seq));
    ARROW_RETURN_NOT_OK(paths.Append(file.staged_path));
    ARROW_RETURN_NOT_OK(rows.Append(file.rows));
    ARROW_RETURN_NOT_OK(bytes.Append(file.bytes));
  }
  arrow::ArrayVector columns(6);
  ARROW_RETURN_NOT_OK(task_ids.Finish(&columns[0]));
  ARROW_RETURN_NOT_OK(dirs.Finish(&columns[1]));
  ARROW_RETURN_NOT_OK(seqs.Finish(&columns[2]));
  ARROW_RETURN_NOT_OK(paths.Finish(&columns[3]));
  ARROW_RETURN_NOT_OK(rows.Finish(&columns[4]));
  ARROW_RETURN_NOT_OK(bytes.Finish(&columns[5]));
  return arrow::RecordBatch::Make(StagedFileSchema(), static_cast<int64_t>(files.size()),
                                  std::move(columns));
}

arrow::Status AnnotateWithPath(const arrow::Status& status, const std::string& path) {
  if (status.ok()) return status;
  return status.WithMessage("writing '", path, "': ", status.message());
}

/// A partition directory the filesystem refused as too long (ENAMETOOLONG): says which
/// partition column's value made it so, rather than the bare reason on a long path.
arrow::Status ExplainTooLongPartition(const arrow::Status& status, const std::string& dir,
                                      const std::vector<std::string>& partition_cols) {
  if (status.ok() || arrow::internal::ErrnoFromStatus(status) != ENAMETOOLONG) return status;
  // One "key=value" segment per partition column; values are escaped, so no '/' inside.
  size_t start = 0;
  for (const auto& column : partition_cols) {
    const size_t end = std::min(dir.find('/', start), dir.size());
    if (end - start > NAME_MAX) {
      return status.WithMessage("write: the value of partition column '", column,
                                "' is too long for the filesystem: its directory name '",
                                dir.substr(start, 40), "...' is ", end - start,
                                " bytes, over the limit of ", NAME_MAX, " bytes per name");
    }
    start = end + 1;
  }
  return status.WithMessage("write: partition directory '", dir,
                            "' is too long for the filesystem: ", status.message());
}

/// The steps one task takes on its files: partitioning, buffering, rollover. A short-lived
/// view over the operator's options and the task's state; it holds nothing itself.
class TaskWriter {
 public:
  TaskWriter(const WriteOperatorOptions& options, exec::ExecContext* ctx, WriteGlobalState* global,
             WriteTaskState* task)
      : options_(options), ctx_(ctx), global_(global), task_(task) {}

  arrow::Status Push(const std::shared_ptr<arrow::RecordBatch>& batch) {
    ARROW_RETURN_NOT_OK(ResolveLayout(*batch));
    const WriteLayout& layout = *task_->layout;
    ARROW_ASSIGN_OR_RAISE(auto data, batch->SelectColumns(layout.data_indices));
    if (layout.partition_indices.empty()) {
      if (task_->partitions.empty()) task_->partitions.emplace_back("");
      return WriteRows(&task_->partitions[0], data);
    }
    return PushPartitioned(*batch, data);
  }

  /// Writes what is buffered and closes every file; they end up in finished_files.
  arrow::Status Finish() {
    ARROW_RETURN_NOT_OK(SplitUnsplit());
    for (auto& partition : task_->partitions) {
      ARROW_RETURN_NOT_OK(Flush(&partition));
      if (partition.writer) ARROW_RETURN_NOT_OK(CloseFile(&partition));
    }
    return arrow::Status::OK();
  }

 private:
  arrow::Status ResolveLayout(const arrow::RecordBatch& batch) {
    if (!task_->layout) {
      std::lock_guard<std::mutex> lock(global_->mutex);
      if (!global_->layout) {
        ARROW_ASSIGN_OR_RAISE(global_->layout, MakeLayout(batch.schema(), options_.partition_cols));
      }
      task_->layout = global_->layout;
    }
    const auto& expected = task_->layout->input_schema;
    if (batch.schema() != expected && !SameColumns(*batch.schema(), *expected)) {
      return arrow::Status::TypeError(
          "write: a batch's columns differ from the first batch's; every batch written must "
          "have the same column names and types.\nexpected: ",
          expected->ToString(), "\ngot: ", batch.schema()->ToString());
    }
    return arrow::Status::OK();
  }

  std::string PartitionColumnNames() const {
    std::string names;
    for (const auto& name : options_.partition_cols) names += (names.empty() ? "" : ", ") + name;
    return names;
  }

  arrow::Status PushPartitioned(const arrow::RecordBatch& batch,
                                const std::shared_ptr<arrow::RecordBatch>& data) {
    const WriteLayout& layout = *task_->layout;
    std::vector<arrow::Datum> keys;
    for (size_t k = 0; k < layout.partition_indices.size(); ++k) {
      std::shared_ptr<arrow::Array> column = batch.column(layout.partition_indices[k]);
      if (column->type_id() == arrow::Type::DICTIONARY) {
        ARROW_ASSIGN_OR_RAISE(column, arrow::compute::Cast(*column, layout.key_types[k],
                                                           arrow::compute::CastOptions::Safe(),
                                                           ctx_->compute_context()));
      }
      keys.emplace_back(std::move(column));
    }
    if (!task_->grouper) {
      std::vector<arrow::TypeHolder> key_types(layout.key_types.begin(), layout.key_types.end());
      auto grouper = arrow::compute::Grouper::Make(key_types, ctx_->compute_context());
      if (!grouper.ok()) {
        return grouper.status().WithMessage("write: cannot partition by the types of ",
                                            "partition columns [", PartitionColumnNames(),
                                            "]: ", grouper.status().message());
      }
      task_->grouper = std::move(*grouper);
    }
    const arrow::compute::ExecBatch key_batch(std::move(keys), batch.num_rows());
    ARROW_ASSIGN_OR_RAISE(arrow::Datum id_datum,
                          task_->grouper->Consume(arrow::compute::ExecSpan(key_batch)));
    ARROW_RETURN_NOT_OK(AddNewPartitions());
    auto ids = std::static_pointer_cast<arrow::UInt32Array>(id_datum.make_array());

    // Clustered input (sorted or naturally grouped by the partition columns) usually has
    // one partition per batch: write it without copying.
    const uint32_t* raw_ids = ids->raw_values();
    const bool single_partition = std::all_of(raw_ids, raw_ids + ids->length(),
                                              [&](uint32_t id) { return id == raw_ids[0]; });
    if (single_partition && task_->unsplit.empty()) {
      ARROW_RETURN_NOT_OK(Buffer(&task_->partitions[raw_ids[0]], data));
    } else {
      // Mixed batches are split a few at a time: one gather per partition over several
      // batches costs a fraction of a Take per partition per batch, which dominated
      // writes of small batches (a scan of small row groups) into many partitions.
      task_->unsplit_bytes += exec::BatchBufferBytes(*data);
      task_->unsplit_rows += data->num_rows();
      task_->unsplit.push_back(data);
      task_->unsplit_ids.push_back(std::move(ids));
      if (task_->unsplit_rows >= kSplitRows ||
          task_->unsplit_bytes >= global_->partition_flush_bytes) {
        ARROW_RETURN_NOT_OK(SplitUnsplit());
      }
    }
    // Keep the task's buffered rows bounded: flush the biggest partitions first.
    while (task_->pending_bytes > global_->task_buffer_bytes) {
      auto largest = std::max_element(task_->partitions.begin(), task_->partitions.end(),
                                      [](const PartitionOutput& a, const PartitionOutput& b) {
                                        return a.pending_bytes < b.pending_bytes;
                                      });
      ARROW_RETURN_NOT_OK(Flush(&*largest));
    }
    return arrow::Status::OK();
  }

  /// Names the directories of partitions the grouper has seen for the first time.
  arrow::Status AddNewPartitions() {
    const size_t known = task_->partitions.size();
    const uint32_t total = task_->grouper->num_groups();
    if (total == known) return arrow::Status::OK();
    ARROW_ASSIGN_OR_RAISE(arrow::compute::ExecBatch uniques, task_->grouper->GetUniques());
    const WriteLayout& layout = *task_->layout;
    std::vector<std::shared_ptr<arrow::StringArray>> values;
    for (size_t k = 0; k < layout.partition_indices.size(); ++k) {
      auto column = uniques.values[k].make_array()->Slice(known);
      auto text = arrow::compute::Cast(*column, arrow::utf8(), arrow::compute::CastOptions::Safe(),
                                       ctx_->compute_context());
      if (!text.ok()) {
        return arrow::Status::TypeError(
            "write: partition column '", options_.partition_cols[k], "' of type ",
            column->type()->ToString(),
            " cannot be written as a directory name: ", text.status().message());
      }
      values.push_back(std::static_pointer_cast<arrow::StringArray>(*text));
    }
    for (uint32_t group = 0; group < total - known; ++group) {
      std::string dir;
      for (size_t k = 0; k < values.size(); ++k) {
        if (k > 0) dir += '/';
        dir += EscapeHivePathSegment(options_.partition_cols[k]);
        dir += '=';
        dir += values[k]->IsNull(group) ? std::string(kHiveNullPartition)
                                        : EscapeHivePathSegment(values[k]->GetView(group));
      }
      task_->partitions.emplace_back(std::move(dir));
    }
    return arrow::Status::OK();
  }

  /// Moves the rows of the batches waiting to be split into their partitions' buffers:
  /// a counting sort of (batch, row) by partition, then one gather per partition. A
  /// gather copies its rows, so no buffered partition pins a whole input batch.
  arrow::Status SplitUnsplit() {
    if (task_->unsplit.empty()) return arrow::Status::OK();
    const size_t groups = task_->partitions.size();
    const int64_t total = task_->unsplit_rows;
    std::vector<int64_t> first(groups + 1, 0);
    for (const auto& ids : task_->unsplit_ids) {
      const uint32_t* raw = ids->raw_values();
      for (int64_t i = 0; i < ids->length(); ++i) ++first[raw[i] + 1];
    }
    for (size_t g = 0; g < groups; ++g) first[g + 1] += first[g];
    std::vector<uint32_t> source_of(total);
    std::vector<uint32_t> rows(total);
    std::vector<int64_t> cursor(first.begin(), first.end() - 1);
    for (size_t b = 0; b < task_->unsplit_ids.size(); ++b) {
      const uint32_t* raw = task_->unsplit_ids[b]->raw_values();
      for (int64_t i = 0; i < task_->unsplit_ids[b]->length(); ++i) {
        const int64_t at = cursor[raw[i]]++;
        source_of[at] = static_cast<uint32_t>(b);
        rows[at] = static_cast<uint32_t>(i);
      }
    }
    // Batches may differ in nullability (SameColumns allows it); the gather needs one schema.
    for (auto& batch : task_->unsplit) {
      ARROW_ASSIGN_OR_RAISE(batch, exec::BatchUnderSchema(batch, task_->layout->file_schema));
    }
    std::vector<std::shared_ptr<arrow::RecordBatch>> sources = std::move(task_->unsplit);
    task_->unsplit.clear();
    task_->unsplit_ids.clear();
    task_->unsplit_rows = 0;
    task_->unsplit_bytes = 0;
    for (size_t g = 0; g < groups; ++g) {
      const int64_t n = first[g + 1] - first[g];
      if (n == 0) continue;
      ARROW_ASSIGN_OR_RAISE(
          auto part,
          compute::GatherRows(task_->layout->file_schema, sources, source_of.data() + first[g],
                              rows.data() + first[g], n, ctx_->compute_context()));
      ARROW_RETURN_NOT_OK(Buffer(&task_->partitions[g], std::move(part)));
    }
    return arrow::Status::OK();
  }

  arrow::Status Buffer(PartitionOutput* partition, std::shared_ptr<arrow::RecordBatch> rows) {
    const int64_t bytes = arrow::util::TotalBufferSize(*rows);
    partition->pending.push_back(std::move(rows));
    partition->pending_bytes += bytes;
    task_->pending_bytes += bytes;
    if (partition->pending_bytes >= global_->partition_flush_bytes) return Flush(partition);
    return arrow::Status::OK();
  }

  arrow::Status Flush(PartitionOutput* partition) {
    if (partition->pending.empty()) return arrow::Status::OK();
    // Batches may differ in nullability (SameColumns allows it); the file has one schema.
    int64_t rows = 0;
    for (auto& pending : partition->pending) {
      ARROW_ASSIGN_OR_RAISE(pending, exec::BatchUnderSchema(pending, task_->layout->file_schema));
      rows += pending->num_rows();
    }
    if (!options_.max_rows_per_file) {
      // The partition's rows go out as whole row groups, so an open file holds none.
      if (!partition->writer) ARROW_RETURN_NOT_OK(OpenFile(partition));
      ARROW_RETURN_NOT_OK(
          AnnotateWithPath(partition->writer->WriteRowGroup(partition->pending), partition->path));
      partition->file_rows += rows;
      partition->last_write = ++task_->clock;
    } else {
      // Files roll over at a row count: one batch, cut where each file ends.
      ARROW_ASSIGN_OR_RAISE(auto combined,
                            arrow::ConcatenateRecordBatches(partition->pending, ctx_->pool()));
      ARROW_RETURN_NOT_OK(WriteRows(partition, combined));
    }
    partition->pending.clear();
    task_->pending_bytes -= partition->pending_bytes;
    partition->pending_bytes = 0;
    return arrow::Status::OK();
  }

  /// Writes rows to the partition's file, opening files and rolling over as needed.
  arrow::Status WriteRows(PartitionOutput* partition,
                          const std::shared_ptr<arrow::RecordBatch>& rows) {
    const int64_t total = rows->num_rows();
    int64_t offset = 0;
    while (offset < total) {
      if (!partition->writer) ARROW_RETURN_NOT_OK(OpenFile(partition));
      int64_t count = total - offset;
      if (options_.max_rows_per_file) {
        count = std::min(count, *options_.max_rows_per_file - partition->file_rows);
      }
      const auto slice = count == total ? rows : rows->Slice(offset, count);
      ARROW_RETURN_NOT_OK(AnnotateWithPath(partition->writer->Write(*slice), partition->path));
      partition->file_rows += count;
      partition->last_write = ++task_->clock;
      offset += count;
      if (options_.max_rows_per_file && partition->file_rows >= *options_.max_rows_per_file) {
        ARROW_RETURN_NOT_OK(CloseFile(partition));
      }
    }
    return arrow::Status::OK();
  }

  arrow::Status OpenFile(PartitionOutput* partition) {
    if (task_->open_files >= global_->max_open_files) {
      PartitionOutput* least_recent = nullptr;
      for (auto& other : task_->partitions) {
        if (other.writer && (!least_recent || other.last_write < least_recent->last_write)) {
          least_recent = &other;
        }
      }
      if (least_recent) ARROW_RETURN_NOT_OK(CloseFile(least_recent));
    }
    std::string dir = options_.staging_dir;
    if (!partition->dir.empty()) {
      dir += "/" + partition->dir;
      if (!partition->dir_created) {
        ARROW_RETURN_NOT_OK(ExplainTooLongPartition(
            AnnotateWithPath(options_.filesystem->CreateDir(dir, /*recursive=*/true), dir),
            partition->dir, options_.partition_cols));
        partition->dir_created = true;
      }
    }
    partition->file_seq = partition->next_file_seq++;
    partition->file_rows = 0;
    partition->path = dir + "/part-" + ZeroPadded(task_->task_id, 5) + "-" +
                      ZeroPadded(partition->file_seq, 3) + "." + options_.extension;
    const std::string& path = partition->path;

    auto stream = options_.filesystem->OpenOutputStream(path);
    ARROW_RETURN_NOT_OK(AnnotateWithPath(stream.status(), path));
    auto buffered = arrow::io::BufferedOutputStream::Create(
        partition->dir.empty() ? kStreamBufferBytes : kPartitionStreamBufferBytes, ctx_->pool(),
        *stream);
    ARROW_RETURN_NOT_OK(AnnotateWithPath(buffered.status(), path));
    auto writer = options_.open_writer(*buffered, task_->layout->file_schema);
    if (!writer.ok()) {
      ARROW_UNUSED((*buffered)->Close());
      return AnnotateWithPath(writer.status(), path);
    }
    partition->writer = std::move(*writer);
    ++task_->open_files;
    return arrow::Status::OK();
  }

  arrow::Status CloseFile(PartitionOutput* partition) {
    const std::string& path = partition->path;
    auto writer = std::move(partition->writer);
    --task_->open_files;
    ARROW_RETURN_NOT_OK(AnnotateWithPath(writer->Close(), path));
    auto info = options_.filesystem->GetFileInfo(path);
    ARROW_RETURN_NOT_OK(AnnotateWithPath(info.status(), path));
    task_->finished_files.push_back(StagedFile{task_->task_id, partition->dir, partition->file_seq,
                                               path, partition->file_rows, info->size()});
    return arrow::Status::OK();
  }

  const WriteOperatorOptions& options_;
  exec::ExecContext* ctx_;
  WriteGlobalState* global_;
  WriteTaskState* task_;
};

}  // namespace

std::string EscapeHivePathSegment(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string escaped;
  escaped.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      escaped.push_back(ch);
    } else {
      escaped.push_back('%');
      escaped.push_back(kHex[c >> 4]);
      escaped.push_back(kHex[c & 0xF]);
    }
  }
  return escaped;
}

arrow::Status ValidatePartitionColumns(const arrow::Schema& schema,
                                       const std::vector<std::string>& partition_cols) {
  std::set<std::string> seen;
  for (const auto& name : partition_cols) {
    const auto matches = schema.GetAllFieldIndices(name);
    if (matches.empty()) {
      return arrow::Status::KeyError("write: partition column '", name,
                                     "' does not exist; the columns are ",
                                     SchemaColumnNames(schema));
    }
    if (matches.size() > 1) {
      return arrow::Status::Invalid("write: partition column '", name,
                                    "' is ambiguous: several columns have that name");
    }
    if (!seen.insert(name).second) {
      return arrow::Status::Invalid("write: partition column '", name, "' is listed twice");
    }
    auto type = schema.field(matches[0])->type();
    if (type->id() == arrow::Type::DICTIONARY) {
      type = static_cast<const arrow::DictionaryType&>(*type).value_type();
    }
    if (arrow::is_nested(type->id())) {
      return arrow::Status::TypeError("write: partition column '", name, "' has type ",
                                      type->ToString(),
                                      "; partition values must be scalars (numbers, strings, "
                                      "dates, ...)");
    }
  }
  if (!partition_cols.empty() && static_cast<int>(partition_cols.size()) == schema.num_fields()) {
    return arrow::Status::Invalid(
        "write: every column is a partition column; at least one column must remain to be "
        "written into the files");
  }
  return arrow::Status::OK();
}

arrow::Result<std::shared_ptr<WriteOperator>> WriteOperator::Make(WriteOperatorOptions options) {
  if (!options.filesystem || !options.open_writer) {
    return arrow::Status::Invalid("write: no filesystem or format given");
  }
  if (options.max_rows_per_file && *options.max_rows_per_file <= 0) {
    return arrow::Status::Invalid("write: max_rows_per_file must be positive, got ",
                                  *options.max_rows_per_file);
  }
  if (options.expected_schema) {
    ARROW_RETURN_NOT_OK(ValidatePartitionColumns(*options.expected_schema, options.partition_cols));
  }
  return std::shared_ptr<WriteOperator>(new WriteOperator(std::move(options)));
}

std::string WriteOperator::ToString() const { return "Write(" + options_.format_name + ")"; }

arrow::Result<std::shared_ptr<exec::OperatorState>> WriteOperator::MakeGlobalState(
    exec::ExecContext* ctx) const {
  auto global = std::make_shared<WriteGlobalState>();
  global->next_task_id = options_.first_task_id;
  // A share of the memory budget per worker, within sane bounds.
  const int workers = std::max(1, ctx->config().num_threads);
  const int64_t limit = ctx->config().memory_limit_bytes;
  global->task_buffer_bytes = std::clamp<int64_t>(limit / (4 * workers), 4 << 20, int64_t{1} << 30);
  global->partition_flush_bytes =
      std::clamp<int64_t>(global->task_buffer_bytes / 4, 8 << 20, 64 << 20);
  // Open files cost their stream buffers (an eighth of the worker's share at most) and
  // file descriptors (a quarter of the process's allowance, shared by the workers).
  int64_t max_files = limit / (8 * workers * kPartitionStreamBufferBytes);
  struct rlimit files_allowed {};
  if (getrlimit(RLIMIT_NOFILE, &files_allowed) == 0 && files_allowed.rlim_cur != RLIM_INFINITY) {
    max_files =
        std::min<int64_t>(max_files, static_cast<int64_t>(files_allowed.rlim_cur) / 4 / workers);
  }
  global->max_open_files = static_cast<int>(std::clamp<int64_t>(max_files, 32, 512));
  return global;
}

arrow::Result<std::unique_ptr<exec::OperatorState>> WriteOperator::MakeTaskState(
    exec::ExecContext* ctx, exec::OperatorState* global) const {
  auto task = std::make_unique<WriteTaskState>();
  task->task_id = static_cast<WriteGlobalState*>(global)->next_task_id.fetch_add(1);
  return task;
}

arrow::Status WriteOperator::Push(exec::ExecContext* ctx, exec::OperatorState* global,
                                  exec::OperatorState* task, exec::BatchPtr batch,
                                  const exec::EmitFn& emit) const {
  if (batch->num_rows() == 0) return arrow::Status::OK();
  return TaskWriter(options_, ctx, static_cast<WriteGlobalState*>(global),
                    static_cast<WriteTaskState*>(task))
      .Push(batch);
}

arrow::Status WriteOperator::Finish(exec::ExecContext* ctx, exec::OperatorState* global,
                                    exec::OperatorState* task, const exec::EmitFn& emit) const {
  auto* state = static_cast<WriteTaskState*>(task);
  ARROW_RETURN_NOT_OK(
      TaskWriter(options_, ctx, static_cast<WriteGlobalState*>(global), state).Finish());
  if (state->finished_files.empty()) return arrow::Status::OK();
  ARROW_ASSIGN_OR_RAISE(auto files, StagedFilesToBatch(state->finished_files));
  return emit(std::move(files));
}

std::string ZeroPadded(int64_t value, int width) {
  char text[32];
  std::snprintf(text, sizeof(text), "%0*lld", width, static_cast<long long>(value));
  return text;
}

std::shared_ptr<arrow::Schema> WriteOperator::ResultSchema() { return StagedFileSchema(); }

arrow::Result<std::vector<StagedFile>> WriteOperator::StagedFilesFromBatch(
    const arrow::RecordBatch& batch) {
  if (!batch.schema()->Equals(*StagedFileSchema(), /*check_metadata=*/false)) {
    return arrow::Status::Invalid("not a batch of staged files: ", batch.schema()->ToString());
  }
  const auto& task_ids = static_cast<const arrow::Int64Array&>(*batch.column(0));
  const auto& dirs = static_cast<const arrow::StringArray&>(*batch.column(1));
  const auto& seqs = static_cast<const arrow::Int64Array&>(*batch.column(2));
  const auto& paths = static_cast<const arrow::StringArray&>(*batch.column(3));
  const auto& rows = static_cast<const arrow::Int64Array&>(*batch.column(4));
  const auto& bytes = static_cast<const arrow::Int64Array&>(*batch.column(5));
  std::vector<StagedFile> files;
  files.reserve(batch.num_rows());
  for (int64_t i = 0; i < batch.num_rows(); ++i) {
    files.push_back(StagedFile{task_ids.Value(i), dirs.GetString(i), seqs.Value(i),
                               paths.GetString(i), rows.Value(i), bytes.Value(i)});
  }
  return files;
}

}  // namespace sluice::io
