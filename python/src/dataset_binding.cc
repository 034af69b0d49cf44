// sluice._sluice: datasets, their sources, and the batches of a running plan.

#include <arrow/compute/initialize.h>
#include <arrow/table.h>
#include <nanobind/nanobind.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

#include "arrow_capsules.h"
#include "display_text.h"
#include "python_udf.h"
#include "sluice/sluice.h"
#include "status_translation.h"

#include "module_areas.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace sluice::python {

namespace {

std::vector<std::string> NamesOf(const arrow::Schema& schema) {
  std::vector<std::string> names;
  for (const auto& f : schema.fields()) names.push_back(f->name());
  return names;
}

nb::dict StatsToDict(const ExecutionStats& stats) {
  nb::list ops;
  for (const auto& op : stats.operators) {
    nb::dict d;
    d["name"] = op.name;
    d["rows_in"] = op.rows_in;
    d["rows_out"] = op.rows_out;
    d["batches_out"] = op.batches_out;
    d["bytes_out"] = op.bytes_out;
    d["cpu_seconds"] = op.cpu_seconds;
    d["spilled_bytes"] = op.spilled_bytes;
    d["peak_reserved_bytes"] = op.peak_reserved_bytes;
    ops.append(d);
  }
  nb::dict out;
  out["operators"] = ops;
  out["wall_seconds"] = stats.wall_seconds;
  out["peak_memory_bytes"] = stats.peak_memory_bytes;
  out["rows_out"] = stats.rows_out;
  out["spilled_bytes"] = stats.spilled_bytes;
  out["bad_records_skipped"] = stats.bad_records_skipped;
  out["bad_records_collected"] = stats.bad_records_collected;
  return out;
}

/// Batches of a running plan for the Python layer's own consumers (to_arrow, iter_batches):
/// unlike the raw C stream, errors here go through the status translator.
class BatchIterator {
 public:
  explicit BatchIterator(std::shared_ptr<arrow::RecordBatchReader> reader)
      : reader_(std::move(reader)), schema_(reader_->schema()) {}
  ~BatchIterator() { Close(); }
  // Kept apart from the reader, which close() drops.
  nb::capsule schema() const { return ExportSchemaCapsule(*schema_); }
  /// The next batch as (schema, array) capsules, or None at the end.
  nb::object Next() {
    if (!reader_) return nb::none();
    std::shared_ptr<arrow::RecordBatch> batch;
    arrow::Status st;
    {
      nb::gil_scoped_release release;
      st = reader_->ReadNext(&batch);
    }
    Check(st);
    if (!batch) return nb::none();
    return ExportBatchCapsules(*batch);
  }
  void Close() {
    if (!reader_) return;
    // Closing joins workers that may be waiting for the GIL.
    nb::gil_scoped_release release;
    reader_.reset();
  }

 private:
  std::shared_ptr<arrow::RecordBatchReader> reader_;
  std::shared_ptr<arrow::Schema> schema_;
};

}  // namespace

void RegisterDatasets(nb::module_& m) {
  nb::class_<BatchIterator>(m, "BatchIterator")
      .def("schema", &BatchIterator::schema)
      .def("next", &BatchIterator::Next)
      .def("close", &BatchIterator::Close);

  // ---- datasets
  nb::class_<Dataset>(m, "Dataset")
      .def("filter",
           [](const Dataset& d, const Expression& e) { return ValueOrThrow(d.Filter(e)); })
      .def("project",
           [](const Dataset& d, std::vector<Expression> exprs, std::vector<std::string> names) {
             return ValueOrThrow(d.Project(std::move(exprs), std::move(names)));
           })
      .def("select_columns",
           [](const Dataset& d, const std::vector<std::string>& c) {
             return ValueOrThrow(d.SelectColumns(c));
           })
      .def("drop_columns",
           [](const Dataset& d, const std::vector<std::string>& c) {
             return ValueOrThrow(d.DropColumns(c));
           })
      .def("rename_columns",
           [](const Dataset& d, const std::vector<std::pair<std::string, std::string>>& r) {
             return ValueOrThrow(d.RenameColumns(r));
           })
      .def("with_column", [](const Dataset& d, const std::string& name,
                             const Expression& e) { return ValueOrThrow(d.WithColumn(name, e)); })
      .def(
          "map_batches",
          [](const Dataset& d, nb::object factory, const std::string& name,
             std::optional<int64_t> batch_size, int min_actors, int max_actors,
             int max_concurrency) {
            MapBatchesOptions options;
            options.name = name;
            options.batch_size = batch_size;
            options.min_actors = min_actors;
            options.max_actors = max_actors;
            options.max_concurrency = max_concurrency;
            options.serialize = MakePythonFunctionSerializer(factory);
            return ValueOrThrow(
                d.MapBatches(MakePythonBatchFunctionFactory(std::move(factory)), options));
          },
          "factory"_a, "name"_a, "batch_size"_a = nb::none(), "min_actors"_a = 0,
          "max_actors"_a = 0, "max_concurrency"_a = 0)
      .def("limit", [](const Dataset& d, int64_t n) { return ValueOrThrow(d.Limit(n)); })
      .def("sort",
           [](const Dataset& d, const std::vector<std::tuple<std::string, bool, bool>>& keys) {
             std::vector<SortKey> sort_keys;
             for (const auto& [column, descending, nulls_first] : keys)
               sort_keys.push_back({column, descending, nulls_first});
             return ValueOrThrow(d.Sort(std::move(sort_keys)));
           })
      .def("aggregate",
           [](const Dataset& d, std::vector<std::string> keys,
              const std::vector<std::tuple<std::string, std::string, std::string>>& aggs) {
             std::vector<Aggregate> aggregates;
             for (const auto& [fn, column, out] : aggs) aggregates.push_back({fn, column, out});
             return ValueOrThrow(d.GroupByAggregate(std::move(keys), std::move(aggregates)));
           })
      .def("repartition",
           [](const Dataset& d, int n, std::vector<std::string> keys) {
             return ValueOrThrow(d.Repartition(n, std::move(keys)));
           })
      .def("distinct",
           [](const Dataset& d, std::vector<std::string> columns) {
             return ValueOrThrow(d.Distinct(std::move(columns)));
           })
      .def("union",
           [](const Dataset& d, const std::vector<Dataset>& others) {
             return ValueOrThrow(d.Union(others));
           })
      .def(
          "join",
          [](const Dataset& d, const Dataset& right, std::vector<std::string> left_keys,
             std::vector<std::string> right_keys, const std::string& how,
             const std::string& suffix) {
            JoinOptions options;
            options.left_keys = std::move(left_keys);
            options.right_keys = std::move(right_keys);
            options.how = ValueOrThrow(ParseJoinType(how));
            options.right_suffix = suffix;
            return ValueOrThrow(d.Join(right, std::move(options)));
          },
          "right"_a, "left_keys"_a, "right_keys"_a, "how"_a, "suffix"_a)
      .def("schema",
           [](const Dataset& d) {
             auto schema = WithoutGil([&] { return d.Schema(); });
             return ExportSchemaCapsule(*schema);
           })
      .def("count", [](const Dataset& d) { return WithoutGil([&] { return d.Count(); }); })
      .def("size_bytes", [](const Dataset& d) { return WithoutGil([&] { return d.SizeBytes(); }); })
      .def("execute",
           [](const Dataset& d) {
             auto reader = WithoutGil([&] { return d.Execute(); });
             return std::make_unique<BatchIterator>(std::move(reader));
           })
      .def("to_table",
           [](const Dataset& d) {
             auto table = WithoutGil([&] { return d.ToTable(); });
             return ExportStreamCapsule(
                 std::make_shared<arrow::TableBatchReader>(std::move(table)));
           })
      .def("to_stream",
           [](const Dataset& d) {
             auto reader = WithoutGil([&] { return d.Execute(); });
             return ExportStreamCapsule(std::move(reader));
           })
      .def(
          "write",
          [](const Dataset& d, const std::string& format, const std::string& path,
             const std::string& mode, std::vector<std::string> partition_cols,
             const std::string& compression, std::optional<int64_t> max_rows_per_file,
             const std::string& delimiter, bool header, std::optional<std::string> table,
             bool replace_foreign_files, bool explain) -> nb::object {
            WriteOptions options;
            options.table = std::move(table);
            options.replace_foreign_files = replace_foreign_files;
            options.mode = ValueOrThrow(ParseWriteMode(mode));
            options.partition_cols = std::move(partition_cols);
            options.compression = compression;
            options.max_rows_per_file = max_rows_per_file;
            if (delimiter.size() != 1) {
              throw StatusError(
                  arrow::Status::Invalid("delimiter must be one character, got '", delimiter, "'"));
            }
            options.delimiter = delimiter[0];
            options.header = header;
            if (explain) {
              return nb::str(DisplayText(ValueOrThrow(d.ExplainWrite(format, path, options))).c_str());
            }
            WriteResult result = WithoutGil([&] { return d.Write(format, path, options); });
            nb::dict out;
            out["files"] = result.files;
            out["rows"] = result.rows;
            out["bytes"] = result.bytes;
            return out;
          },
          "format"_a, "path"_a, "mode"_a, "partition_cols"_a, "compression"_a,
          "max_rows_per_file"_a = nb::none(), "delimiter"_a = ",", "header"_a = true,
          "table"_a = nb::none(), "replace_foreign_files"_a = false, "explain"_a = false)
      .def("explain", [](const Dataset& d) { return DisplayText(ValueOrThrow(d.Explain())); })
      .def(
          "serialize_plan",
          [](const Dataset& d, bool optimize) {
            // With the GIL: pickling the plan's Python functions needs it anyway.
            std::string bytes = ValueOrThrow(d.SerializePlan(optimize));
            return nb::bytes(bytes.data(), bytes.size());
          },
          "optimize"_a = false)
      .def("stats_text", [](const Dataset& d) { return DisplayText(d.LastStats().ToString()); })
      .def("stats", [](const Dataset& d) { return StatsToDict(d.LastStats()); })
      .def("session", [](const Dataset& d) { return d.session(); })
      .def("rejects",
           [](const Dataset& d) {
             auto table = ValueOrThrow(d.LastRejects());
             return ExportStreamCapsule(
                 std::make_shared<arrow::TableBatchReader>(std::move(table)));
           });

  // ---- sources
  m.def(
      "read_parquet",
      [](const std::vector<std::string>& paths, std::vector<std::string> columns,
         std::optional<Expression> filter, bool hive_partitioning, bool follow_symlinks,
         const Session* session) {
        ReadParquetOptions options;
        options.follow_symlinks = follow_symlinks;
        options.columns = std::move(columns);
        options.filter = std::move(filter);
        options.hive_partitioning = hive_partitioning;
        return WithoutGil([&] { return Dataset::ReadParquet(paths, options, SessionOr(session)); });
      },
      "paths"_a, "columns"_a, "filter"_a = nb::none(), "hive_partitioning"_a = true,
      "follow_symlinks"_a = false, "session"_a.none() = nb::none());
  m.def(
      "read_csv",
      [](const std::vector<std::string>& paths, const std::string& delimiter, bool header,
         std::vector<std::string> column_names, int64_t skip_rows, nb::dict column_types,
         std::vector<std::string> null_values, bool include_paths, const std::string& quote_char,
         bool newlines_in_values, int32_t block_size, bool empty_as_null,
         const std::string& encoding_errors, const std::string& on_bad_lines,
         bool follow_symlinks, const Session* session) {
        ReadCsvOptions options;
        options.follow_symlinks = follow_symlinks;
        options.block_size = block_size;
        options.empty_as_null = empty_as_null;
        options.encoding_errors = ValueOrThrow(ParseEncodingErrors(encoding_errors));
        options.on_bad_lines = ValueOrThrow(ParseBadLineAction(on_bad_lines));
        if (delimiter.size() != 1) {
          throw StatusError(
              arrow::Status::Invalid("delimiter must be one character, got '", delimiter, "'"));
        }
        options.delimiter = delimiter[0];
        options.header = header;
        options.column_names = std::move(column_names);
        options.skip_rows = skip_rows;
        for (auto [name, type_capsule] : column_types) {
          options.column_types[nb::cast<std::string>(name)] = ImportTypeCapsule(type_capsule);
        }
        options.null_values = std::move(null_values);
        options.include_paths = include_paths;
        if (quote_char.empty()) {
          options.quoting = false;
        } else {
          options.quote_char = quote_char[0];
        }
        options.newlines_in_values = newlines_in_values;
        return WithoutGil([&] { return Dataset::ReadCsv(paths, options, SessionOr(session)); });
      },
      "paths"_a, "delimiter"_a, "header"_a, "column_names"_a, "skip_rows"_a, "column_types"_a,
      "null_values"_a, "include_paths"_a, "quote_char"_a, "newlines_in_values"_a,
      "block_size"_a = 0, "empty_as_null"_a = true, "encoding_errors"_a = "strict",
      "on_bad_lines"_a = "error", "follow_symlinks"_a = false, "session"_a.none() = nb::none());
  m.def(
      "read_json",
      [](const std::vector<std::string>& paths, nb::object schema_capsule, bool include_paths,
         int32_t block_size, const std::string& encoding_errors, const std::string& on_bad_lines,
         bool follow_symlinks, const Session* session) {
        ReadJsonOptions options;
        options.follow_symlinks = follow_symlinks;
        options.block_size = block_size;
        options.encoding_errors = ValueOrThrow(ParseEncodingErrors(encoding_errors));
        options.on_bad_lines = ValueOrThrow(ParseBadLineAction(on_bad_lines));
        if (!schema_capsule.is_none()) options.schema = ImportSchemaCapsule(schema_capsule);
        options.include_paths = include_paths;
        return WithoutGil([&] { return Dataset::ReadJson(paths, options, SessionOr(session)); });
      },
      "paths"_a, "schema"_a = nb::none(), "include_paths"_a = false, "block_size"_a = 0,
      "encoding_errors"_a = "strict", "on_bad_lines"_a = "error", "follow_symlinks"_a = false,
      "session"_a.none() = nb::none());
  m.def(
      "read_text",
      [](const std::vector<std::string>& paths, bool include_paths, bool drop_empty_lines,
         const std::string& encoding_errors, bool follow_symlinks, const Session* session) {
        ReadTextOptions options;
        options.follow_symlinks = follow_symlinks;
        options.encoding_errors = ValueOrThrow(ParseEncodingErrors(encoding_errors));
        options.include_paths = include_paths;
        options.drop_empty_lines = drop_empty_lines;
        return WithoutGil([&] { return Dataset::ReadText(paths, options, SessionOr(session)); });
      },
      "paths"_a, "include_paths"_a = false, "drop_empty_lines"_a = false,
      "encoding_errors"_a = "strict", "follow_symlinks"_a = false,
      "session"_a.none() = nb::none());
  m.def(
      "from_arrow_stream",
      [](nb::handle stream_capsule, const Session* session) {
        auto reader = ImportStreamCapsule(stream_capsule);
        auto table = WithoutGil([&] { return reader->ToTable(); });
        return ValueOrThrow(Dataset::FromTable(std::move(table), SessionOr(session)));
      },
      "stream"_a, "session"_a.none() = nb::none());
  m.def(
      "range",
      [](int64_t n, const Session* session) {
        return ValueOrThrow(Dataset::Range(n, SessionOr(session)));
      },
      "n"_a, "session"_a.none() = nb::none());
  m.def(
      "deserialize_plan",
      [](nb::bytes bytes, const Session* session) {
        return ValueOrThrow(Dataset::DeserializePlan(std::string(bytes.c_str(), bytes.size()),
                                                     SessionOr(session)));
      },
      "bytes"_a, "session"_a = nb::none());
}

}  // namespace sluice::python
