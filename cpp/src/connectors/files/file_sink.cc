#include "connectors/files/file_sink.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "catalog/table_commit.h"
#include "runtime/exec_context.h"
#include "formats/file_formats.h"
#include "table/commit_protocol.h"
#include "formats/format_writers.h"
#include "operators/write_operator.h"
#include "storage/filesystems.h"
#include "plan/plan_serialization.h"

#include <nlohmann/json.hpp>

namespace sluice::io {

namespace {

int DecimalDigits(int64_t value) {
  int digits = 1;
  while (value >= 10) {
    value /= 10;
    ++digits;
  }
  return digits;
}

/// Final names, `part-{task:05d}-{seq:03d}-{write_id}.{ext}`. `files` is in task order (the
/// order the pipeline delivered them), so numbering tasks by first appearance makes name
/// order task order; the widths grow past 5 and 3 digits when needed, keeping that true.
std::vector<StagedOutput> NameFiles(const std::vector<StagedFile>& files,
                                    const std::string& write_id, const std::string& extension) {
  std::map<int64_t, int64_t> task_ordinals;
  int64_t max_seq = 0;
  for (const auto& file : files) {
    task_ordinals.emplace(file.task_id, static_cast<int64_t>(task_ordinals.size()));
    max_seq = std::max(max_seq, file.file_seq);
  }
  const int task_width = std::max(5, DecimalDigits(static_cast<int64_t>(task_ordinals.size()) - 1));
  const int seq_width = std::max(3, DecimalDigits(max_seq));
  std::vector<StagedOutput> outputs;
  outputs.reserve(files.size());
  for (const auto& file : files) {
    std::string relative = file.partition_dir.empty() ? "" : file.partition_dir + "/";
    relative += "part-" + ZeroPadded(task_ordinals.at(file.task_id), task_width) + "-" +
                ZeroPadded(file.file_seq, seq_width) + "-" + write_id + "." + extension;
    outputs.push_back(StagedOutput{file.staged_path, std::move(relative), file.rows, file.bytes});
  }
  return outputs;
}

constexpr char kFileTaskWriterKind[] = "file_task_writer";
constexpr char kFileSinkKind[] = "file_sink";

/// What a task writer in another process needs: where to stage, how to name, encode and
/// lay out the files.
struct TaskWriterSpec {
  std::string format;
  WriteOptions options;  // compression, delimiter, header, partition_cols, max_rows_per_file
  std::shared_ptr<arrow::Schema> expected_schema;
};

class FileSinkWrite : public plan::SinkWrite {
 public:
  FileSinkWrite(std::unique_ptr<CommitProtocol> commit, std::string extension,
                std::shared_ptr<WriteOperator> writer, bool partitioned, TaskWriterSpec spec)
      : commit_(std::move(commit)),
        extension_(std::move(extension)),
        writer_(std::move(writer)),
        partitioned_(partitioned),
        spec_(std::move(spec)) {}

  std::shared_ptr<const exec::StreamOperator> task_writer() const override { return writer_; }
  bool RegroupsUnorderedInput() const override { return partitioned_; }

  arrow::Result<plan::SerializedPart> SerializeTaskWriter() const override {
    const std::string kind = commit_->filesystem()->type_name();
    if (kind != "local" && kind != "s3") {
      return arrow::Status::NotImplemented("tasks in other processes cannot write to a ", kind,
                                           " filesystem");
    }
    nlohmann::json payload{
        {"filesystem", kind},
        {"staging_dir", commit_->staging_dir()},
        {"format", spec_.format},
        {"compression", spec_.options.compression},
        {"delimiter", std::string(1, spec_.options.delimiter)},
        {"header", spec_.options.header},
        {"partition_cols", spec_.options.partition_cols},
        {"max_rows_per_file", spec_.options.max_rows_per_file
                                  ? nlohmann::json(*spec_.options.max_rows_per_file)
                                  : nlohmann::json()},
        {"expected_schema", nullptr}};
    if (spec_.expected_schema) {
      ARROW_ASSIGN_OR_RAISE(payload["expected_schema"], plan::SerializeSchema(spec_.expected_schema));
    }
    return plan::SerializedPart{kFileTaskWriterKind, payload.dump()};
  }

  arrow::Result<WriteResult> Commit(
      const std::vector<std::shared_ptr<arrow::RecordBatch>>& task_results) override {
    std::vector<StagedFile> staged;
    for (const auto& batch : task_results) {
      ARROW_ASSIGN_OR_RAISE(auto files, WriteOperator::StagedFilesFromBatch(*batch));
      staged.insert(staged.end(), files.begin(), files.end());
    }
    // Task results may come from other processes (fragment tasks): publish only files
    // inside this write's staging directory, into partition directories below the target.
    const std::string prefix = commit_->staging_dir() + "/";
    auto has_parent_step = [](const std::string& path) {
      return path == ".." || path.rfind("../", 0) == 0 || path.find("/../") != std::string::npos ||
             (path.size() >= 3 && path.compare(path.size() - 3, 3, "/..") == 0);
    };
    for (const auto& file : staged) {
      if (file.staged_path.rfind(prefix, 0) != 0 || has_parent_step(file.staged_path)) {
        return arrow::Status::Invalid("write commit: a task staged ", file.staged_path,
                                      ", outside the staging directory ", commit_->staging_dir());
      }
      if (!file.partition_dir.empty() &&
          (file.partition_dir.front() == '/' || has_parent_step(file.partition_dir))) {
        return arrow::Status::Invalid("write commit: partition directory '", file.partition_dir,
                                      "' is not below the target");
      }
    }
    WriteResult result;
    for (const auto& file : staged) {
      result.rows += file.rows;
      result.bytes += file.bytes;
    }
    ARROW_ASSIGN_OR_RAISE(result.files,
                          commit_->Commit(NameFiles(staged, commit_->write_id(), extension_)));
    return result;
  }

 private:
  // Owns the staging directory: destroying it uncommitted removes it again.
  std::unique_ptr<CommitProtocol> commit_;
  std::string extension_;
  std::shared_ptr<WriteOperator> writer_;
  bool partitioned_;
  TaskWriterSpec spec_;
};

class FileSink : public plan::SinkSpec {
 public:
  FileSink(std::string path, const formats::FileFormat* format, WriteOptions options)
      : path_(std::move(path)), format_(format), options_(std::move(options)) {}

  std::string name() const override {
    std::string name = format_->name;
    name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
    return "Write" + name;
  }

  std::string Describe() const override {
    std::ostringstream out;
    out << path_ << " mode=" << WriteModeName(options_.mode);
    if (options_.table) out << " table=" << *options_.table;
    if (!options_.partition_cols.empty()) {
      out << " partition_cols=[";
      for (size_t i = 0; i < options_.partition_cols.size(); ++i) {
        out << (i ? ", " : "") << options_.partition_cols[i];
      }
      out << "]";
    }
    if (!options_.compression.empty()) out << " compression=" << options_.compression;
    if (options_.max_rows_per_file) out << " max_rows_per_file=" << *options_.max_rows_per_file;
    return out.str();
  }

  std::shared_ptr<arrow::Schema> result_schema() const override {
    return WriteOperator::ResultSchema();
  }

  arrow::Result<plan::SerializedPart> Serialize() const override {
    nlohmann::json payload{
        {"path", path_},
        {"format", format_->name},
        {"mode", WriteModeName(options_.mode)},
        {"partition_cols", options_.partition_cols},
        {"max_rows_per_file", options_.max_rows_per_file ? nlohmann::json(*options_.max_rows_per_file)
                                                         : nlohmann::json()},
        {"compression", options_.compression},
        {"delimiter", std::string(1, options_.delimiter)},
        {"header", options_.header},
        {"table", options_.table ? nlohmann::json(*options_.table) : nlohmann::json()},
        {"catalog_path", options_.catalog_path},
        {"replace_foreign_files", options_.replace_foreign_files}};
    return plan::SerializedPart{kFileSinkKind, payload.dump()};
  }

  arrow::Result<std::unique_ptr<plan::SinkWrite>> Begin(
      exec::ExecContext* ctx, const std::shared_ptr<arrow::Schema>& input_schema) const override {
    // Everything that can be checked before running is checked before anything is created.
    ARROW_ASSIGN_OR_RAISE(FileWriterSpec writer,
                          format_->make_writer(options_, ctx->config(), ctx->pool()));
    if (options_.max_rows_per_file && *options_.max_rows_per_file <= 0) {
      return arrow::Status::Invalid("write: max_rows_per_file must be positive, got ",
                                    *options_.max_rows_per_file);
    }
    if (input_schema) {
      ARROW_RETURN_NOT_OK(ValidatePartitionColumns(*input_schema, options_.partition_cols));
    }
    CommitOptions commit_options;
    commit_options.mode = options_.mode;
    commit_options.partition_cols = options_.partition_cols;
    commit_options.replace_foreign_files = options_.replace_foreign_files;
    commit_options.session = ctx->session();
    std::string target = path_;
    WriteOptions effective = options_;
    // The session's catalog unless the call names one.
    if (effective.catalog_path.empty()) effective.catalog_path = ctx->config().catalog_path;
    if (options_.table) {
      if (format_->name != "parquet") {
        return arrow::Status::NotImplemented(
            "catalog tables are written as Parquet; use write_parquet(..., table=...)");
      }
      ARROW_ASSIGN_OR_RAISE(auto table_write,
                            catalog::PrepareTableWrite(path_, format_->name, effective,
                                                       input_schema, ctx->session()));
      target = table_write.location;
      effective.partition_cols = commit_options.partition_cols = table_write.partition_cols;
      if (input_schema) {
        ARROW_RETURN_NOT_OK(ValidatePartitionColumns(*input_schema, effective.partition_cols));
      }
      commit_options.lock = std::move(table_write.lock);
      commit_options.before_publish = std::move(table_write.before_publish);
      commit_options.on_committed = std::move(table_write.on_committed);
    }
    ARROW_ASSIGN_OR_RAISE(auto commit, CommitProtocol::Begin(target, std::move(commit_options)));

    WriteOperatorOptions write_options;
    write_options.filesystem = commit->filesystem();
    write_options.staging_dir = commit->staging_dir();
    write_options.extension = writer.extension;
    write_options.partition_cols = effective.partition_cols;
    write_options.max_rows_per_file = effective.max_rows_per_file;
    write_options.expected_schema = input_schema;
    write_options.open_writer = writer.open_writer;
    write_options.format_name = writer.name;
    ARROW_ASSIGN_OR_RAISE(auto write_operator, WriteOperator::Make(std::move(write_options)));
    TaskWriterSpec spec{format_->name, effective, input_schema};
    return std::make_unique<FileSinkWrite>(std::move(commit), writer.extension,
                                           std::move(write_operator),
                                           !effective.partition_cols.empty(), std::move(spec));
  }

 private:
  std::string path_;
  const formats::FileFormat* format_;
  WriteOptions options_;
};

}  // namespace

arrow::Result<std::shared_ptr<const plan::SinkSpec>> MakeFileSink(const std::string& path,
                                                                  const std::string& format,
                                                                  const WriteOptions& options) {
  ARROW_ASSIGN_OR_RAISE(const formats::FileFormat* found,
                        formats::FindFileFormat(format, /*for_writing=*/true));
  return std::make_shared<FileSink>(path, found, options);
}

namespace {

arrow::Result<std::shared_ptr<const exec::StreamOperator>> FileTaskWriterFromJson(
    const std::string& payload, exec::ExecContext* ctx, int64_t first_task_id) {
  nlohmann::json object = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object()) return arrow::Status::Invalid("serialized task writer: not JSON");
  const std::string kind = object.at("filesystem").get<std::string>();
  const std::string staging_dir = object.at("staging_dir").get<std::string>();
  if ((kind != "local" && kind != "s3") || staging_dir.empty()) {
    return arrow::Status::Invalid("serialized task writer: bad staging directory");
  }
  ARROW_ASSIGN_OR_RAISE(const formats::FileFormat* format,
                        formats::FindFileFormat(object.at("format").get<std::string>(),
                                                /*for_writing=*/true));
  WriteOptions options;
  options.compression = object.at("compression").get<std::string>();
  const std::string delimiter = object.at("delimiter").get<std::string>();
  if (delimiter.size() != 1) return arrow::Status::Invalid("serialized task writer: bad delimiter");
  options.delimiter = delimiter[0];
  options.header = object.at("header").get<bool>();
  options.partition_cols = object.at("partition_cols").get<std::vector<std::string>>();
  if (!object.at("max_rows_per_file").is_null()) {
    options.max_rows_per_file = object.at("max_rows_per_file").get<int64_t>();
    if (*options.max_rows_per_file <= 0) {
      return arrow::Status::Invalid("serialized task writer: bad max_rows_per_file");
    }
  }
  ARROW_ASSIGN_OR_RAISE(FileWriterSpec writer,
                        format->make_writer(options, ctx->config(), ctx->pool()));
  std::string path;
  ARROW_ASSIGN_OR_RAISE(auto filesystem,
                        FileSystemFromUriOrPath(kind == "s3" ? "s3://" + staging_dir : staging_dir,
                                                &path, ctx->session()));
  WriteOperatorOptions write_options;
  write_options.filesystem = std::move(filesystem);
  write_options.staging_dir = path;
  write_options.extension = writer.extension;
  write_options.partition_cols = options.partition_cols;
  write_options.max_rows_per_file = options.max_rows_per_file;
  if (!object.at("expected_schema").is_null()) {
    ARROW_ASSIGN_OR_RAISE(write_options.expected_schema,
                          plan::DeserializeSchema(object.at("expected_schema").get<std::string>()));
  }
  write_options.open_writer = writer.open_writer;
  write_options.format_name = writer.name;
  write_options.first_task_id = first_task_id;
  ARROW_ASSIGN_OR_RAISE(auto write_operator, WriteOperator::Make(std::move(write_options)));
  return std::shared_ptr<const exec::StreamOperator>(std::move(write_operator));
}

}  // namespace

arrow::Result<std::shared_ptr<const exec::StreamOperator>> DeserializeTaskWriter(
    const plan::SerializedPart& part, exec::ExecContext* ctx, int64_t first_task_id) {
  if (part.kind != kFileTaskWriterKind) {
    return arrow::Status::NotImplemented("cannot read back a task writer of kind '", part.kind, "'");
  }
  try {
    return FileTaskWriterFromJson(part.payload, ctx, first_task_id);
  } catch (const nlohmann::json::exception& error) {
    return arrow::Status::Invalid("serialized task writer: ", error.what());
  }
}

arrow::Result<std::shared_ptr<const plan::SinkSpec>> DeserializeSink(const plan::SerializedPart& part) {
  if (part.kind != kFileSinkKind) {
    return arrow::Status::NotImplemented("cannot read back a sink of kind '", part.kind, "'");
  }
  try {
    nlohmann::json object = nlohmann::json::parse(part.payload, nullptr, /*allow_exceptions=*/false);
    if (!object.is_object()) return arrow::Status::Invalid("serialized file sink: not JSON");
    WriteOptions options;
    ARROW_ASSIGN_OR_RAISE(options.mode, ParseWriteMode(object.at("mode").get<std::string>()));
    options.partition_cols = object.at("partition_cols").get<std::vector<std::string>>();
    if (!object.at("max_rows_per_file").is_null()) {
      options.max_rows_per_file = object.at("max_rows_per_file").get<int64_t>();
    }
    options.compression = object.at("compression").get<std::string>();
    const std::string delimiter = object.at("delimiter").get<std::string>();
    if (delimiter.size() != 1) return arrow::Status::Invalid("serialized file sink: bad delimiter");
    options.delimiter = delimiter[0];
    options.header = object.at("header").get<bool>();
    if (!object.at("table").is_null()) options.table = object.at("table").get<std::string>();
    options.catalog_path = object.at("catalog_path").get<std::string>();
    options.replace_foreign_files = object.at("replace_foreign_files").get<bool>();
    return MakeFileSink(object.at("path").get<std::string>(), object.at("format").get<std::string>(),
                        options);
  } catch (const nlohmann::json::exception& error) {
    return arrow::Status::Invalid("serialized file sink: ", error.what());
  }
}

}  // namespace sluice::io
