// ReadParquet: Parquet files (optionally hive-partitioned) scanned through Arrow Dataset,
// with partition pruning, row-group statistics pruning, projection and limit pushdown.

#include <arrow/acero/options.h>
#include <arrow/compute/expression.h>
#include <arrow/dataset/file_parquet.h>
#include <arrow/dataset/partition.h>
#include <arrow/dataset/scanner.h>
#include <arrow/io/interfaces.h>
#include <parquet/arrow/reader.h>
#include <parquet/exception.h>
#include <parquet/metadata.h>
#include <parquet/properties.h>
#include <parquet/schema.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <limits>
#include <map>
#include <set>
#include <system_error>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include "compute/engine_functions.h"
#include "compute/expression_depth.h"
#include "compute/select_rows.h"
#include "runtime/exec_context.h"
#include "table/file_listing.h"
#include "formats/file_scan_tasks.h"
#include "storage/filesystems.h"
#include "formats/serialized_files.h"
#include "plan/plan_serialization.h"
#include "formats/file_sources.h"

namespace sluice::io {

namespace {

namespace cp = arrow::compute;
namespace ds = arrow::dataset;

/// One listed file with its footer.
struct ParquetFile {
  std::string path;
  std::shared_ptr<ds::ParquetFileFragment> fragment;  // all row groups, footer cached
  std::shared_ptr<parquet::FileMetaData> metadata;
  /// The file's own columns (without partition columns).
  std::shared_ptr<arrow::Schema> physical_schema;
  /// The footer's row count, when the footer agrees with itself (see ConsistentRowCount);
  /// otherwise only reading the file says how many rows it has.
  std::optional<int64_t> rows;
};

/// The row groups of `file` that a scan reads.
struct KeptRowGroups {
  std::shared_ptr<const ParquetFile> file;
  std::vector<int> row_groups;
};

// ---- Hive partition discovery ----------------------------------------------------

template <typename Int>
bool ParsesAs(const std::string& text) {
  Int value;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end;
}

/// The type of a partition column from its directory values: int32 when every value is
/// an int32 (as pyarrow infers, e.g. year=2015), int64 when every value is an integer
/// but some exceed int32, string otherwise. Keys with only null values are strings.
std::shared_ptr<arrow::DataType> InferPartitionType(const std::set<std::string>& values) {
  if (values.empty()) return arrow::utf8();
  bool all_int32 = true;
  for (const auto& v : values) {
    if (!ParsesAs<int64_t>(v)) return arrow::utf8();
    all_int32 &= ParsesAs<int32_t>(v);
  }
  return all_int32 ? arrow::int32() : arrow::int64();
}

/// The directories of `file` below its base directory, as "a=1/b=x"; empty for files
/// named explicitly.
std::string PartitionDirectories(const ListedFile& file) {
  if (file.base_dir.empty()) return "";
  std::string_view rest = std::string_view(file.path()).substr(file.base_dir.size());
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  const size_t last_slash = rest.rfind('/');
  return last_slash == std::string_view::npos ? "" : std::string(rest.substr(0, last_slash));
}

/// The hive partitioning implied by the files' `key=value` directories, or null when
/// there are none. Keys are ordered by first appearance in path order.
arrow::Result<std::shared_ptr<ds::HivePartitioning>> DiscoverHivePartitioning(
    const std::vector<ListedFile>& files) {
  const ds::HivePartitioningOptions options;
  std::vector<std::string> keys;
  std::map<std::string, std::set<std::string>> values;
  for (const auto& file : files) {
    const std::string dirs = PartitionDirectories(file);
    size_t start = 0;
    while (start < dirs.size()) {
      size_t end = dirs.find('/', start);
      if (end == std::string::npos) end = dirs.size();
      auto key = ds::HivePartitioning::ParseKey(dirs.substr(start, end - start), options);
      if (!key.ok()) return WithPathContext(key.status(), file.path());
      if (*key) {
        if (!values.count((*key)->name)) keys.push_back((*key)->name);
        auto& key_values = values[(*key)->name];
        if ((*key)->value) key_values.insert(*(*key)->value);
      }
      start = end + 1;
    }
  }
  if (keys.empty()) return nullptr;
  arrow::FieldVector fields;
  for (const auto& key : keys) fields.push_back(arrow::field(key, InferPartitionType(values[key])));
  return std::make_shared<ds::HivePartitioning>(arrow::schema(std::move(fields)),
                                                arrow::ArrayVector{}, options);
}

// ---- Footers and schema ----------------------------------------------------------

/// Runs `read`, which reads the footer of the file at `path` through Parquet's metadata
/// classes. Those throw parquet::ParquetException on a corrupt footer (a row group with
/// fewer column chunks than the schema has columns, ...) where the rest of Arrow returns
/// a Status; the exception becomes an error naming the file.
template <typename Read>
typename arrow::EnsureResult<std::invoke_result_t<Read>>::type FromFooter(const std::string& path,
                                                                           Read&& read) {
  try {
    return read();
  } catch (const parquet::ParquetException& e) {
    return arrow::Status::IOError(path, ": corrupt Parquet footer: ", e.what());
  }
}

/// The file's row count when its footer is consistent: no negative counts, the row
/// groups' counts sum to the file's, and each row group's count is the number of values
/// of each of its unrepeated columns (Arrow reads what the pages hold, whatever the
/// counts say). Writers do not all agree: parquet-testing's
/// repeated_no_annotation.parquet says 0 rows for a row group of 6.
std::optional<int64_t> ConsistentRowCount(const parquet::FileMetaData& metadata) {
  int64_t row_group_rows = 0;
  for (int rg = 0; rg < metadata.num_row_groups(); ++rg) {
    const auto row_group = metadata.RowGroup(rg);
    const int64_t rows = row_group->num_rows();
    if (rows < 0 || rows > std::numeric_limits<int64_t>::max() - row_group_rows) {
      return std::nullopt;
    }
    // Column chunks beyond the schema's columns have no descriptor to look at.
    if (row_group->num_columns() != metadata.num_columns()) return std::nullopt;
    for (int c = 0; c < row_group->num_columns(); ++c) {
      // A repeated column holds a value per list element, not per row.
      if (row_group->schema()->Column(c)->max_repetition_level() > 0) continue;
      if (row_group->ColumnChunk(c)->num_values() != rows) return std::nullopt;
    }
    row_group_rows += rows;
  }
  if (row_group_rows != metadata.num_rows()) return std::nullopt;
  return row_group_rows;
}

/// Sluice reads the footer's row groups and column chunks through parquet::FileMetaData
/// (task splitting, sizes, counts), whose accessors throw ParquetException on a damaged
/// footer (a statistics histogram of the wrong size, say) instead of returning a Status.
/// Touch each one once here, through FromFooter, so the exception becomes an error naming
/// the file; the accessors decode the same bytes the same way later, so they cannot throw
/// then.
arrow::Status CheckFooterDecodes(const std::string& path, const parquet::FileMetaData& metadata) {
  return FromFooter(path, [&] {
           for (int rg = 0; rg < metadata.num_row_groups(); ++rg) {
             auto row_group = metadata.RowGroup(rg);
             for (int c = 0; c < row_group->num_columns(); ++c) row_group->ColumnChunk(c);
           }
           return true;
         })
      .status();
}

/// Reads every footer, several files at a time since on object stores each is a
/// round trip. Plain threads rather than Arrow's IO pool: the reads themselves run on
/// that pool, and blocking its threads on its own work can deadlock it.
arrow::Status ReadFooters(std::vector<ParquetFile>* files) {
  constexpr size_t kMaxConcurrentReads = 16;
  std::vector<arrow::Status> statuses(files->size());
  std::atomic<size_t> next{0};
  auto read_some = [&] {
    for (size_t i = next++; i < files->size(); i = next++) {
      statuses[i] = (*files)[i].fragment->EnsureCompleteMetadata();
    }
  };
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < std::min(files->size(), kMaxConcurrentReads); ++t) {
    try {
      helpers.emplace_back(read_some);
    } catch (const std::system_error&) {
      break;  // out of threads: the ones running (at least this one) do all the reads
    }
  }
  read_some();
  for (auto& helper : helpers) helper.join();
  for (size_t i = 0; i < files->size(); ++i) {
    if (!statuses[i].ok()) return WithPathContext(statuses[i], (*files)[i].path);
  }
  for (auto& file : *files) {
    file.metadata = file.fragment->metadata();
    ARROW_RETURN_NOT_OK(CheckFooterDecodes(file.path, *file.metadata));
    ARROW_ASSIGN_OR_RAISE(
        file.rows, FromFooter(file.path, [&] { return ConsistentRowCount(*file.metadata); }));
    ARROW_ASSIGN_OR_RAISE(file.physical_schema, file.fragment->ReadPhysicalSchema());
  }
  return arrow::Status::OK();
}

/// The union of the files' columns in order of first appearance. A column must have the
/// same type in every file that has it; files without it read it as null.
arrow::Result<arrow::FieldVector> UnifyFileSchemas(const std::vector<ParquetFile>& files) {
  arrow::FieldVector fields;
  std::unordered_map<std::string, std::pair<size_t, const std::string*>> seen;  // index, file
  for (const auto& file : files) {
    for (const auto& field : file.physical_schema->fields()) {
      auto it = seen.find(field->name());
      if (it == seen.end()) {
        seen.emplace(field->name(), std::make_pair(fields.size(), &file.path));
        fields.push_back(field);
        continue;
      }
      auto& known = fields[it->second.first];
      if (!known->type()->Equals(*field->type())) {
        return arrow::Status::TypeError("Column '", field->name(), "' is ",
                                        known->type()->ToString(), " in ", *it->second.second,
                                        " but ", field->type()->ToString(), " in ", file.path);
      }
      if (field->nullable() && !known->nullable()) known = known->WithNullable(true);
    }
  }
  return fields;
}

/// Adds the partition columns after the file columns. A partition key that files also
/// store as a column keeps the file's column, which must have the inferred type.
arrow::Result<std::shared_ptr<arrow::Schema>> DatasetSchema(
    arrow::FieldVector file_fields, const std::shared_ptr<ds::HivePartitioning>& partitioning,
    const std::vector<ParquetFile>& files) {
  if (partitioning) {
    for (const auto& partition_field : partitioning->schema()->fields()) {
      auto existing = std::find_if(file_fields.begin(), file_fields.end(), [&](const auto& f) {
        return f->name() == partition_field->name();
      });
      if (existing == file_fields.end()) {
        file_fields.push_back(partition_field);
      } else if (!(*existing)->type()->Equals(*partition_field->type())) {
        std::string holder;
        for (const auto& file : files) {
          if (file.physical_schema->GetFieldByName(partition_field->name())) {
            holder = file.path;
            break;
          }
        }
        return arrow::Status::TypeError(
            "Partition column '", partition_field->name(), "' is ",
            partition_field->type()->ToString(), " in the directory names but ",
            (*existing)->type()->ToString(), " in ", holder,
            "; read with hive_partitioning=false or rewrite the files without it");
      }
    }
  }
  return arrow::schema(std::move(file_fields));
}

// ---- Planning helpers --------------------------------------------------------------

bool IsLiteralTrue(const cp::Expression& expr) {
  const arrow::Datum* value = expr.literal();
  return value && value->is_scalar() && value->scalar()->is_valid &&
         value->scalar()->type->id() == arrow::Type::BOOL &&
         std::static_pointer_cast<arrow::BooleanScalar>(value->scalar())->value;
}

/// Filters with more calls, columns and literals than this are not tested against
/// row-group statistics (KeepRowGroups).
constexpr int64_t kMaxStatisticsPruningSize = 20000;

/// `bound` simplified under a file's partition values. Files without partition values
/// (guarantee `true`) skip Arrow's simplification, whose passes cost real time on a
/// filter of 100,000 terms and change nothing there.
arrow::Result<cp::Expression> SimplifyForPartition(const cp::Expression& bound,
                                                   const cp::Expression& partition_expression) {
  if (IsLiteralTrue(partition_expression)) return bound;
  return cp::SimplifyWithGuarantee(bound, partition_expression);
}

/// Contiguous runs of `row_groups` with roughly equal uncompressed bytes, at most `pieces`.
std::vector<std::vector<int>> SplitByBytes(const std::vector<int>& row_groups,
                                           const parquet::FileMetaData& metadata, int pieces) {
  if (pieces <= 1 || row_groups.size() <= 1) return {row_groups};
  int64_t total = 0;
  for (int rg : row_groups) total += metadata.RowGroup(rg)->total_byte_size();
  const int64_t target = std::max<int64_t>(1, total / pieces);
  std::vector<std::vector<int>> out(1);
  int64_t accumulated = 0;
  for (int rg : row_groups) {
    if (accumulated >= target && static_cast<int>(out.size()) < pieces) {
      out.emplace_back();
      accumulated = 0;
    }
    out.back().push_back(rg);
    accumulated += metadata.RowGroup(rg)->total_byte_size();
  }
  return out;
}

int64_t RowsIn(const parquet::FileMetaData& metadata, const std::vector<int>& row_groups) {
  int64_t rows = 0;
  for (int rg : row_groups) rows += metadata.RowGroup(rg)->num_rows();
  return rows;
}

std::vector<int> AllRowGroups(const parquet::FileMetaData& metadata) {
  std::vector<int> out(metadata.num_row_groups());
  for (int i = 0; i < metadata.num_row_groups(); ++i) out[i] = i;
  return out;
}

/// Compressed bytes of `row_groups`: what pre-buffering them holds at once.
int64_t CompressedBytes(const parquet::FileMetaData& metadata, const std::vector<int>& row_groups) {
  int64_t total = 0;
  for (int rg : row_groups) {
    auto row_group = metadata.RowGroup(rg);
    for (int c = 0; c < row_group->num_columns(); ++c) {
      total += row_group->ColumnChunk(c)->total_compressed_size();
    }
  }
  return total;
}

/// `options` with Parquet pre-buffering turned off.
std::shared_ptr<ds::ScanOptions> WithoutPreBuffer(const ds::ScanOptions& options) {
  auto copy = std::make_shared<ds::ScanOptions>(options);
  auto parquet_options = std::make_shared<ds::ParquetFragmentScanOptions>(
      static_cast<const ds::ParquetFragmentScanOptions&>(*options.fragment_scan_options));
  auto arrow_properties =
      std::make_shared<parquet::ArrowReaderProperties>(*parquet_options->arrow_reader_properties);
  arrow_properties->set_pre_buffer(false);
  parquet_options->arrow_reader_properties = std::move(arrow_properties);
  copy->fragment_scan_options = std::move(parquet_options);
  return copy;
}

/// Opens some row groups of `file` through an Arrow Dataset scanner that runs on the
/// calling thread; a pushed-down filter is applied with `compute`'s pool.
arrow::Result<std::unique_ptr<exec::BatchStream>> OpenRowGroups(
    const std::shared_ptr<arrow::Schema>& dataset_schema, const ParquetFile& file,
    const std::vector<int>& row_groups, const std::vector<std::string>& columns,
    const std::optional<cp::Expression>& filter,
    const std::shared_ptr<ds::ScanOptions>& base_options, cp::ExecContext* compute);

/// Streams one fragment through an Arrow Dataset scanner on the calling thread.
class FragmentStream : public exec::BatchStream {
 public:
  explicit FragmentStream(std::shared_ptr<arrow::RecordBatchReader> reader)
      : reader_(std::move(reader)) {}
  ~FragmentStream() override { (void)reader_->Close(); }
  arrow::Result<exec::BatchPtr> Next() override { return reader_->Next(); }

 private:
  std::shared_ptr<arrow::RecordBatchReader> reader_;
};

/// Passes on the rows of a scan without its columns, read only for their row count.
class ColumnsDroppedStream : public exec::BatchStream {
 public:
  explicit ColumnsDroppedStream(std::unique_ptr<exec::BatchStream> input)
      : input_(std::move(input)) {}
  arrow::Result<exec::BatchPtr> Next() override {
    ARROW_ASSIGN_OR_RAISE(exec::BatchPtr batch, input_->Next());
    if (!batch) return nullptr;
    return batch->SelectColumns({});
  }

 private:
  std::unique_ptr<exec::BatchStream> input_;
};

/// Applies a pushed-down filter to the batches of a scan and drops the columns read only
/// for it. Arrow's scanner can filter rows itself, but its filter allocates through
/// Arrow's default memory pool, outside the budget, and faults fresh pages in for every
/// batch (15% of a filtering scan's time); the statistics-based row-group pruning the
/// filter is for happens before the scan either way (KeepRowGroups).
class FilteredStream : public exec::BatchStream {
 public:
  FilteredStream(std::unique_ptr<exec::BatchStream> input, cp::Expression bound_filter,
                 std::vector<int> kept_columns, cp::ExecContext* compute)
      : input_(std::move(input)),
        filter_(std::move(bound_filter)),
        filter_description_(compute::DescribeExpression(filter_)),
        kept_columns_(std::move(kept_columns)),
        compute_(compute) {}

  arrow::Result<exec::BatchPtr> Next() override {
    while (true) {
      ARROW_ASSIGN_OR_RAISE(exec::BatchPtr batch, input_->Next());
      if (!batch) return nullptr;
      ARROW_ASSIGN_OR_RAISE(arrow::Datum mask,
                            cp::ExecuteScalarExpression(filter_, cp::ExecBatch(*batch), compute_));
      ARROW_ASSIGN_OR_RAISE(batch, compute::SelectRows(batch, mask, filter_description_, compute_));
      if (!batch) continue;
      if (static_cast<int>(kept_columns_.size()) == batch->num_columns()) return batch;
      return batch->SelectColumns(kept_columns_);
    }
  }

 private:
  std::unique_ptr<exec::BatchStream> input_;
  cp::Expression filter_;
  std::string filter_description_;  // made once: a filter may have 100,000 terms
  std::vector<int> kept_columns_;
  cp::ExecContext* compute_;
};

// ---- The source -------------------------------------------------------------------

constexpr char kParquetSourceKind[] = "parquet";

/// What a ParquetSource was made from, beyond its open files: enough for another process
/// to open the same files the same way (Serialize).
struct ParquetOrigin {
  /// The listed files, parallel to the source's files (a file cut into splits appears
  /// once per split).
  ListedFiles listed;
  /// The Hive partition columns and their types; empty when not partitioned.
  std::shared_ptr<arrow::Schema> partition_schema;
  /// Per file, the row groups a split restricted it to; nullopt: all of them.
  std::vector<std::optional<std::vector<int>>> row_groups;
};

class ParquetSource : public plan::SourceSpec {
 public:
  ParquetSource(std::vector<std::shared_ptr<const ParquetFile>> files,
                std::shared_ptr<arrow::Schema> schema, std::string description, bool local_files,
                std::shared_ptr<const ParquetOrigin> origin)
      : files_(std::move(files)),
        schema_(std::move(schema)),
        description_(std::move(description)),
        local_files_(local_files),
        origin_(std::move(origin)) {}

  std::string name() const override { return "ReadParquet"; }
  std::string Describe() const override { return description_; }
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }
  bool SupportsFilterPushdown() const override { return true; }

  arrow::Result<plan::SerializedPart> Serialize() const override {
    ARROW_ASSIGN_OR_RAISE(auto files, ListedFilesToJson(origin_->listed));
    ARROW_ASSIGN_OR_RAISE(auto schema, plan::SerializeSchema(schema_));
    ARROW_ASSIGN_OR_RAISE(auto partition_schema, plan::SerializeSchema(origin_->partition_schema));
    nlohmann::json row_groups = nlohmann::json::array();
    for (const auto& selected : origin_->row_groups) {
      row_groups.push_back(selected ? nlohmann::json(*selected) : nlohmann::json());
    }
    nlohmann::json payload{{"files", std::move(files)},
                           {"schema", std::move(schema)},
                           {"partition_schema", std::move(partition_schema)},
                           {"row_groups", std::move(row_groups)},
                           {"description", description_}};
    return plan::SerializedPart{kParquetSourceKind, payload.dump()};
  }

  arrow::Result<std::vector<plan::Split>> ListSplits(const plan::Pushdown& pushdown,
                                                     int64_t target_bytes) const override {
    ARROW_ASSIGN_OR_RAISE(auto kept, KeepRowGroups(pushdown));
    if (pushdown.limit && !pushdown.filter) {
      ARROW_ASSIGN_OR_RAISE(kept, FirstRows(std::move(kept), *pushdown.limit));
    }
    std::vector<plan::Split> splits;
    for (const auto& part : kept) {
      ARROW_RETURN_NOT_OK(FromFooter(part.file->path, [&] {
        // Consecutive row groups up to about target_bytes (compressed) per split.
        std::vector<int> current;
        int64_t current_bytes = 0;
        auto flush = [&] {
          if (current.empty()) return;
          plan::Split split;
          split.label = part.file->path + " row groups " + std::to_string(current.front()) +
                        (current.size() > 1 ? "-" + std::to_string(current.back()) : "");
          split.payload = nlohmann::json{{"path", part.file->path}, {"row_groups", current}}.dump();
          split.bytes = current_bytes;
          if (!pushdown.filter && part.file->rows) split.rows = RowsIn(*part.file->metadata, current);
          splits.push_back(std::move(split));
          current.clear();
          current_bytes = 0;
        };
        for (int rg : part.row_groups) {
          const int64_t bytes = CompressedBytes(*part.file->metadata, {rg});
          if (!current.empty() && current_bytes + bytes > target_bytes) flush();
          current.push_back(rg);
          current_bytes += bytes;
        }
        flush();
        return arrow::Status::OK();
      }));
    }
    return splits;
  }

  arrow::Result<std::shared_ptr<const plan::SourceSpec>> WithSplits(
      const std::vector<plan::Split>& splits) const override {
    std::map<std::string, size_t> by_path;
    for (size_t i = 0; i < files_.size(); ++i) by_path.emplace(files_[i]->path, i);
    std::vector<std::shared_ptr<const ParquetFile>> files;
    auto origin = std::make_shared<ParquetOrigin>();
    origin->listed.filesystem = origin_->listed.filesystem;
    origin->partition_schema = origin_->partition_schema;
    for (const auto& split : splits) {
      ARROW_ASSIGN_OR_RAISE(auto object, ParsePayload(split.payload, "Parquet split"));
      if (!object.contains("path") || !object["path"].is_string() ||
          !object.contains("row_groups") || !object["row_groups"].is_array()) {
        return arrow::Status::Invalid("serialized Parquet split: no path or row groups");
      }
      auto found = by_path.find(object["path"].get<std::string>());
      if (found == by_path.end()) {
        return arrow::Status::Invalid("split of a file this source does not read: ",
                                      object["path"].get<std::string>());
      }
      const auto& file = files_[found->second];
      std::vector<int> row_groups;
      for (const auto& rg : object["row_groups"]) {
        if (!rg.is_number_integer() || rg.get<int64_t>() < 0 ||
            rg.get<int64_t>() >= file->metadata->num_row_groups()) {
          return arrow::Status::Invalid("Parquet split of ", file->path,
                                        ": no such row group ", rg.dump());
        }
        row_groups.push_back(rg.get<int>());
      }
      files.push_back(file);
      origin->listed.files.push_back(origin_->listed.files[found->second]);
      origin->row_groups.push_back(std::move(row_groups));
    }
    std::string description = DescribeFiles(origin->listed.files);
    return std::make_shared<const ParquetSource>(std::move(files), schema_, std::move(description),
                                                 local_files_, std::move(origin));
  }

  arrow::Result<std::unique_ptr<exec::TaskSource>> MakeTaskSource(
      exec::ExecContext* ctx, const plan::Pushdown& pushdown) const override {
    ARROW_ASSIGN_OR_RAISE(auto kept, KeepRowGroups(pushdown));
    if (pushdown.limit && !pushdown.filter) {
      ARROW_ASSIGN_OR_RAISE(kept, FirstRows(std::move(kept), *pushdown.limit));
    }

    std::vector<std::string> columns =
        pushdown.columns ? *pushdown.columns : schema_->field_names();
    auto scan_options = BaseScanOptions(ctx);
    auto unbuffered_options = WithoutPreBuffer(*scan_options);
    const int64_t pre_buffer_limit = PreBufferLimit(ctx);

    // Fewer files than workers: cut files into row-group ranges so every worker has work.
    const int target_tasks = std::max(1, ctx->config().num_threads * 2);
    const int pieces_per_file =
        kept.empty() || static_cast<int>(kept.size()) >= target_tasks
            ? 1
            : (target_tasks + static_cast<int>(kept.size()) - 1) / static_cast<int>(kept.size());

    std::vector<FileScanUnit> units;
    for (const auto& part : kept) {
      ARROW_RETURN_NOT_OK(FromFooter(part.file->path, [&] {
        for (auto& row_groups :
             SplitByBytes(part.row_groups, *part.file->metadata, pieces_per_file)) {
          FileScanUnit unit;
          unit.path = part.file->path;
          if (!pushdown.filter && part.file->rows) {
            unit.known_rows = RowsIn(*part.file->metadata, row_groups);
          }
          // Tasks may outlive this source, so they hold what they need themselves.
          const bool pre_buffer =
              CompressedBytes(*part.file->metadata, row_groups) <= pre_buffer_limit;
          unit.open = [schema = schema_, file = part.file, row_groups = std::move(row_groups),
                       columns, filter = pushdown.filter,
                       options = pre_buffer ? scan_options : unbuffered_options,
                       compute = ctx->compute_context()]() {
            return FromFooter(file->path, [&] {
              return OpenRowGroups(schema, *file, row_groups, columns, filter, options, compute);
            });
          };
          units.push_back(std::move(unit));
        }
        return arrow::Status::OK();
      }));
    }
    return MakeFileTaskSource(std::move(units), pushdown.limit);
  }

  arrow::Result<std::optional<int64_t>> CountRowsFromMetadata(
      const plan::Pushdown& pushdown) const override {
    std::optional<cp::Expression> filter;
    if (pushdown.filter) {
      ARROW_ASSIGN_OR_RAISE(filter, compute::BindWithEngineFunctions(*pushdown.filter, *schema_));
    }
    int64_t rows = 0;
    for (size_t i = 0; i < files_.size(); ++i) {
      const ParquetFile& file = *files_[i];
      if (filter) {
        // Only a filter that the partition values decide can be counted from footers.
        ARROW_ASSIGN_OR_RAISE(auto simplified, SimplifyForPartition(
                                                   *filter, file.fragment->partition_expression()));
        if (!simplified.IsSatisfiable()) continue;
        if (!IsLiteralTrue(simplified)) return std::nullopt;
      }
      if (!file.rows || *file.rows > std::numeric_limits<int64_t>::max() - rows) {
        return std::nullopt;
      }
      if (origin_->row_groups[i]) {
        ARROW_ASSIGN_OR_RAISE(int64_t selected, FromFooter(file.path, [&]() -> arrow::Result<int64_t> {
          return RowsIn(*file.metadata, *origin_->row_groups[i]);
        }));
        rows += selected;
        continue;
      }
      rows += *file.rows;
    }
    if (pushdown.limit) rows = std::min(rows, *pushdown.limit);
    return rows;
  }

  arrow::Result<std::optional<int64_t>> SizeBytesFromMetadata(
      const plan::Pushdown& pushdown) const override {
    ARROW_ASSIGN_OR_RAISE(auto kept, KeepRowGroups(pushdown));
    if (pushdown.limit && !pushdown.filter) {
      ARROW_ASSIGN_OR_RAISE(kept, FirstRows(std::move(kept), *pushdown.limit));
    }
    std::set<std::string> columns;
    if (pushdown.columns) columns.insert(pushdown.columns->begin(), pushdown.columns->end());
    int64_t bytes = 0;
    for (const auto& part : kept) {
      ARROW_RETURN_NOT_OK(FromFooter(part.file->path, [&] {
        for (int rg : part.row_groups) {
          auto row_group = part.file->metadata->RowGroup(rg);
          if (!pushdown.columns) {
            bytes += row_group->total_byte_size();
            continue;
          }
          for (int c = 0; c < row_group->num_columns(); ++c) {
            auto chunk = row_group->ColumnChunk(c);
            // Leaf columns of nested fields count toward their top-level column.
            if (columns.count(chunk->path_in_schema()->ToDotVector().front())) {
              bytes += chunk->total_uncompressed_size();
            }
          }
        }
        return arrow::Status::OK();
      }));
    }
    return bytes;
  }

 private:
  /// The row groups that partition values and statistics cannot rule out.
  arrow::Result<std::vector<KeptRowGroups>> KeepRowGroups(const plan::Pushdown& pushdown) const {
    std::vector<KeptRowGroups> kept;
    std::optional<cp::Expression> filter;
    if (pushdown.filter) {
      ARROW_ASSIGN_OR_RAISE(filter, compute::BindWithEngineFunctions(*pushdown.filter, *schema_));
    }
    // Arrow tests a filter against each row group's statistics by simplifying the whole
    // filter once per row group: for a filter of many thousand terms that costs more
    // than reading the row groups it might skip.
    const bool prune_by_statistics =
        filter && compute::ExpressionSize(*filter, kMaxStatisticsPruningSize + 1) <=
                      kMaxStatisticsPruningSize;
    for (size_t i = 0; i < files_.size(); ++i) {
      const auto& file_ptr = files_[i];
      const ParquetFile& file = *file_ptr;
      if (filter) {
        ARROW_ASSIGN_OR_RAISE(auto simplified, SimplifyForPartition(
                                                   *filter, file.fragment->partition_expression()));
        if (!simplified.IsSatisfiable()) continue;  // pruned by partition values
      }
      const auto& selected = origin_->row_groups[i];
      if (!prune_by_statistics) {
        if (selected) {
          if (!selected->empty()) kept.push_back({file_ptr, *selected});
        } else if (file.metadata->num_row_groups() > 0) {
          kept.push_back({file_ptr, AllRowGroups(*file.metadata)});
        }
        continue;
      }
      // Statistics are read through the throwing metadata classes.
      auto subset = FromFooter(file.path, [&] { return file.fragment->Subset(*filter); });
      if (!subset.ok()) return WithPathContext(subset.status(), file.path);
      std::vector<int> row_groups =
          std::static_pointer_cast<ds::ParquetFileFragment>(*subset)->row_groups();
      if (selected) {
        // A split's row groups, in its order, less those the statistics rule out.
        const std::set<int> possible(row_groups.begin(), row_groups.end());
        row_groups.clear();
        for (int rg : *selected) {
          if (possible.count(rg)) row_groups.push_back(rg);
        }
      }
      if (!row_groups.empty()) kept.push_back({file_ptr, std::move(row_groups)});
    }
    return kept;
  }

  /// The leading row groups that hold the first `limit` rows. From the first file whose
  /// footer's counts are not to be trusted on, all are kept (the scan's limit stops it).
  static arrow::Result<std::vector<KeptRowGroups>> FirstRows(std::vector<KeptRowGroups> kept,
                                                             int64_t limit) {
    std::vector<KeptRowGroups> out;
    int64_t rows = 0;
    for (size_t i = 0; i < kept.size(); ++i) {
      auto& part = kept[i];
      if (rows >= limit) break;
      if (!part.file->rows) {
        out.insert(out.end(), std::make_move_iterator(kept.begin() + i),
                   std::make_move_iterator(kept.end()));
        break;
      }
      std::vector<int> needed;
      ARROW_RETURN_NOT_OK(FromFooter(part.file->path, [&] {
        for (int rg : part.row_groups) {
          if (rows >= limit) break;
          needed.push_back(rg);
          rows += part.file->metadata->RowGroup(rg)->num_rows();
        }
        return arrow::Status::OK();
      }));
      if (!needed.empty()) out.push_back({part.file, std::move(needed)});
    }
    return out;
  }

  std::shared_ptr<ds::ScanOptions> BaseScanOptions(exec::ExecContext* ctx) const {
    auto options = std::make_shared<ds::ScanOptions>();
    options->pool = ctx->pool();
    // Each worker holds a few decoded batches at once (the one it passes on, the scanner's
    // read-ahead, those queued for the consumer); under a small budget the batches get
    // smaller so that stays within about a quarter of it (~128 bytes a row assumed).
    const int64_t workers = std::max(1, ctx->config().num_threads);
    const int64_t budget_rows = ctx->config().memory_limit_bytes / (workers * 32 * 128);
    options->batch_size = std::max<int64_t>(
        1, std::min(ctx->config().batch_rows, std::max<int64_t>(4096, budget_rows)));
    // Arrow's scanner decodes up to batch_readahead batches ahead of its consumer; at its
    // default (16 batches of 64k rows, per task) that alone passes a small budget. Allow
    // about an eighth of the budget per worker, at ~128 bytes a row.
    const int64_t per_worker = ctx->config().memory_limit_bytes / 8 / workers;
    options->batch_readahead =
        static_cast<int32_t>(std::clamp<int64_t>(per_worker / (options->batch_size * 128), 1, 16));
    options->fragment_readahead = 1;  // a task is one fragment
    // The scan queues decoded batches for its reader until they pass the backpressure
    // threshold, 1 GiB by default: a task blocked on a full pipeline would go on decoding
    // its whole range into memory. Pause it at the same per-worker share instead.
    const int64_t pause_at = std::max<int64_t>(per_worker, 1 << 20);
    options->backpressure = arrow::acero::BackpressureOptions(static_cast<uint64_t>(pause_at / 2),
                                                              static_cast<uint64_t>(pause_at));
    auto parquet_options = std::make_shared<ds::ParquetFragmentScanOptions>();
    parquet_options->reader_properties = std::make_shared<parquet::ReaderProperties>(ctx->pool());
    // Pre-buffered column chunks are read through the reader's IO context, whose pool is
    // Arrow's default (outside the budget) unless set.
    auto arrow_properties =
        std::make_shared<parquet::ArrowReaderProperties>(*parquet_options->arrow_reader_properties);
    arrow_properties->set_io_context(ctx->io_context());
    parquet_options->arrow_reader_properties = std::move(arrow_properties);
    options->fragment_scan_options = std::move(parquet_options);
    return options;
  }

  /// The largest task (compressed bytes of its row groups) worth pre-buffering.
  /// Pre-buffering reads every column chunk of a task's row groups up front, in a few large
  /// reads, and keeps them until the task ends: fine while that fits a worker's share of
  /// the budget. Remote files always pre-buffer (one request per column chunk would be
  /// far slower); local ones otherwise read column chunk by column chunk.
  int64_t PreBufferLimit(exec::ExecContext* ctx) const {
    if (!local_files_) return std::numeric_limits<int64_t>::max();
    return ctx->config().memory_limit_bytes / 8 / std::max(1, ctx->config().num_threads);
  }

  std::vector<std::shared_ptr<const ParquetFile>> files_;
  std::shared_ptr<arrow::Schema> schema_;
  std::string description_;
  bool local_files_;
  std::shared_ptr<const ParquetOrigin> origin_;
};

arrow::Result<std::unique_ptr<exec::BatchStream>> OpenRowGroups(
    const std::shared_ptr<arrow::Schema>& dataset_schema, const ParquetFile& file,
    const std::vector<int>& row_groups, const std::vector<std::string>& columns,
    const std::optional<cp::Expression>& filter,
    const std::shared_ptr<ds::ScanOptions>& base_options, cp::ExecContext* compute) {
  // Subset shares the cached footer, so opening a task does not read it again.
  ARROW_ASSIGN_OR_RAISE(auto fragment, file.fragment->Subset(row_groups));
  // The filter without what the file's partition values already decide.
  std::optional<cp::Expression> row_filter;
  if (filter) {
    ARROW_ASSIGN_OR_RAISE(auto bound, compute::BindWithEngineFunctions(*filter, *dataset_schema));
    ARROW_ASSIGN_OR_RAISE(auto simplified,
                          SimplifyForPartition(bound, fragment->partition_expression()));
    if (!IsLiteralTrue(simplified)) row_filter = std::move(simplified);
  }
  // Columns the filter needs beyond those asked for are read too, then dropped.
  std::vector<std::string> read_columns = columns;
  bool filter_by_name = true;
  if (row_filter) {
    for (const auto& ref : cp::FieldsInExpression(*row_filter)) {
      if (!ref.IsName()) {
        filter_by_name = false;
        continue;
      }
      if (std::find(read_columns.begin(), read_columns.end(), *ref.name()) == read_columns.end()) {
        read_columns.push_back(*ref.name());
      }
    }
  }
  // Asked for no column, Arrow makes the rows up from the row groups' counts. Where the
  // footer's counts are not to be trusted, one column is read so the rows are the pages'.
  if (read_columns.empty() && !file.rows && file.physical_schema->num_fields() > 0) {
    read_columns.push_back(file.physical_schema->field(0)->name());
  }
  ds::ScannerBuilder builder(dataset_schema, std::move(fragment),
                             std::make_shared<ds::ScanOptions>(*base_options));
  ARROW_RETURN_NOT_OK(builder.Project(filter_by_name ? read_columns : columns));
  if (row_filter && !filter_by_name) ARROW_RETURN_NOT_OK(builder.Filter(*row_filter));
  // Parallelism comes from running many tasks at once, not from inside one.
  ARROW_RETURN_NOT_OK(builder.UseThreads(false));
  ARROW_ASSIGN_OR_RAISE(auto scanner, builder.Finish());
  ARROW_ASSIGN_OR_RAISE(auto reader, scanner->ToRecordBatchReader());
  std::unique_ptr<exec::BatchStream> stream = std::make_unique<FragmentStream>(std::move(reader));
  if (!row_filter && read_columns.size() > columns.size()) {
    return std::make_unique<ColumnsDroppedStream>(std::move(stream));
  }
  if (!row_filter || !filter_by_name) return stream;
  arrow::FieldVector read_fields;
  for (const auto& name : read_columns) {
    auto field = dataset_schema->GetFieldByName(name);
    if (!field) return arrow::Status::KeyError("read_parquet: no column named '", name, "'");
    read_fields.push_back(std::move(field));
  }
  ARROW_ASSIGN_OR_RAISE(auto bound_filter, compute::BindWithEngineFunctions(*row_filter, arrow::Schema(read_fields)));
  std::vector<int> kept_columns(columns.size());
  for (size_t c = 0; c < columns.size(); ++c) kept_columns[c] = static_cast<int>(c);
  return std::make_unique<FilteredStream>(std::move(stream), std::move(bound_filter),
                                          std::move(kept_columns), compute);
}

}  // namespace

namespace {

/// Fragments for `listed`, with their partition expressions, and every footer read.
arrow::Result<std::vector<ParquetFile>> OpenParquetFiles(
    const ListedFiles& listed, const std::shared_ptr<ds::HivePartitioning>& partitioning) {
  auto format = std::make_shared<ds::ParquetFileFormat>();
  std::vector<ParquetFile> files;
  files.reserve(listed.files.size());
  for (const auto& listed_file : listed.files) {
    cp::Expression partition = cp::literal(true);
    if (partitioning) {
      // Arrow parses a file path: the last segment is the file's name and is skipped.
      auto parsed = partitioning->Parse(PartitionDirectories(listed_file) + "/");
      if (!parsed.ok()) return WithPathContext(parsed.status(), listed_file.path());
      partition = std::move(*parsed);
    }
    ARROW_ASSIGN_OR_RAISE(
        auto fragment,
        format->MakeFragment(ds::FileSource(listed_file.info, listed.filesystem), partition));
    files.push_back({listed_file.path(),
                     std::static_pointer_cast<ds::ParquetFileFragment>(std::move(fragment)),
                     nullptr, nullptr});
  }
  ARROW_RETURN_NOT_OK(ReadFooters(&files));
  return files;
}

arrow::Result<std::shared_ptr<ds::HivePartitioning>> PartitioningFor(
    const ListedFiles& listed, const ReadParquetOptions& options,
    const std::shared_ptr<arrow::Schema>& partition_schema) {
  if (!options.hive_partitioning) return nullptr;
  if (partition_schema) {
    if (partition_schema->num_fields() == 0) return nullptr;
    return std::make_shared<ds::HivePartitioning>(partition_schema, arrow::ArrayVector{},
                                                  ds::HivePartitioningOptions{});
  }
  return DiscoverHivePartitioning(listed.files);
}

}  // namespace

arrow::Result<std::shared_ptr<const plan::SourceSpec>> MakeParquetSource(
    const std::vector<std::string>& paths, const ReadParquetOptions& options,
    std::shared_ptr<exec::SessionState> session) {
  ARROW_ASSIGN_OR_RAISE(ListedFiles listed, ListFiles(paths, {options.follow_symlinks, std::move(session)}));
  return MakeParquetSourceFromListing(std::move(listed), options, nullptr);
}

arrow::Result<std::shared_ptr<const plan::SourceSpec>> MakeParquetSourceFromListing(
    ListedFiles listed, const ReadParquetOptions& options,
    const std::shared_ptr<arrow::Schema>& partition_schema) {
  ARROW_ASSIGN_OR_RAISE(auto partitioning, PartitioningFor(listed, options, partition_schema));
  ARROW_ASSIGN_OR_RAISE(std::vector<ParquetFile> files, OpenParquetFiles(listed, partitioning));
  ARROW_ASSIGN_OR_RAISE(auto file_fields, UnifyFileSchemas(files));
  ARROW_ASSIGN_OR_RAISE(auto schema, DatasetSchema(std::move(file_fields), partitioning, files));
  std::vector<std::shared_ptr<const ParquetFile>> shared_files;
  for (auto& file : files)
    shared_files.push_back(std::make_shared<const ParquetFile>(std::move(file)));
  std::string description = DescribeFiles(listed.files);
  const bool local = listed.filesystem && listed.filesystem->type_name() == "local";
  auto origin = std::make_shared<ParquetOrigin>();
  origin->partition_schema = partitioning ? partitioning->schema() : arrow::schema({});
  origin->row_groups.resize(listed.files.size());
  origin->listed = std::move(listed);
  return std::make_shared<const ParquetSource>(std::move(shared_files), std::move(schema),
                                               std::move(description), local, std::move(origin));
}

arrow::Result<std::shared_ptr<const plan::SourceSpec>> DeserializeParquetSource(
    const std::string& payload, const std::shared_ptr<exec::SessionState>& session) {
  ARROW_ASSIGN_OR_RAISE(auto object, ParsePayload(payload, "Parquet source"));
  auto origin = std::make_shared<ParquetOrigin>();
  ARROW_ASSIGN_OR_RAISE(origin->listed, ListedFilesFromJson(object.at("files"), session));
  ARROW_ASSIGN_OR_RAISE(auto schema, plan::DeserializeSchema(object.at("schema").get<std::string>()));
  ARROW_ASSIGN_OR_RAISE(origin->partition_schema,
                        plan::DeserializeSchema(object.at("partition_schema").get<std::string>()));
  const auto& row_groups = object.at("row_groups");
  if (!row_groups.is_array() || row_groups.size() != origin->listed.files.size()) {
    return arrow::Status::Invalid("serialized Parquet source: row groups do not match the files");
  }
  for (const auto& selected : row_groups) {
    if (selected.is_null()) {
      origin->row_groups.emplace_back();
    } else {
      origin->row_groups.emplace_back(selected.get<std::vector<int>>());
    }
  }
  ReadParquetOptions options;
  options.hive_partitioning = origin->partition_schema->num_fields() > 0;
  ARROW_ASSIGN_OR_RAISE(auto partitioning,
                        PartitioningFor(origin->listed, options, origin->partition_schema));
  // Only the footers of these files are read; the schema stays the one of the whole
  // source, which other files may have widened.
  ARROW_ASSIGN_OR_RAISE(std::vector<ParquetFile> files, OpenParquetFiles(origin->listed, partitioning));
  std::vector<std::shared_ptr<const ParquetFile>> shared_files;
  for (size_t i = 0; i < files.size(); ++i) {
    for (int rg : origin->row_groups[i].value_or(std::vector<int>{})) {
      if (rg < 0 || rg >= files[i].metadata->num_row_groups()) {
        return arrow::Status::Invalid("serialized Parquet source: ", files[i].path,
                                      " has no row group ", rg);
      }
    }
    shared_files.push_back(std::make_shared<const ParquetFile>(std::move(files[i])));
  }
  const bool local = IsLocalFileSystem(*origin->listed.filesystem);
  return std::make_shared<const ParquetSource>(std::move(shared_files), std::move(schema),
                                               object.at("description").get<std::string>(), local,
                                               std::move(origin));
}

arrow::Result<ParquetInventory> InspectParquetFiles(const ListedFiles& listed) {
  ARROW_ASSIGN_OR_RAISE(auto partitioning, DiscoverHivePartitioning(listed.files));
  ARROW_ASSIGN_OR_RAISE(std::vector<ParquetFile> files, OpenParquetFiles(listed, partitioning));
  ARROW_ASSIGN_OR_RAISE(auto file_fields, UnifyFileSchemas(files));
  ParquetInventory inventory;
  ARROW_ASSIGN_OR_RAISE(inventory.schema,
                        DatasetSchema(std::move(file_fields), partitioning, files));
  if (partitioning) inventory.partition_cols = partitioning->schema()->field_names();
  for (size_t i = 0; i < files.size(); ++i) {
    inventory.files.push_back({files[i].path, PartitionDirectories(listed.files[i]),
                               files[i].rows.value_or(-1), listed.files[i].info.size()});
  }
  return inventory;
}

}  // namespace sluice::io
