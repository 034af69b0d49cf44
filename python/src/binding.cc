// The nanobind module sluice._sluice: a thin layer over the C++ API. Every call that may
// run the engine releases the GIL; errors leave through StatusError and the translator in
// status_translation.cc. Data crosses only as Arrow C Data Interface capsules.

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
#include "event_listeners.h"
#include "fragments_binding.h"
#include "status_translation.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace sluice::python {

namespace {

/// Runs `fn` with the GIL released and returns its value or throws its error.
template <typename Fn>
auto WithoutGil(Fn&& fn) {
  using ResultType = decltype(fn());
  std::optional<ResultType> result;
  {
    nb::gil_scoped_release release;
    result.emplace(fn());
  }
  return ValueOrThrow(std::move(*result));
}

Expression ScalarLiteral(nb::handle schema_capsule, nb::handle array_capsule) {
  auto array = ImportArrayCapsules(schema_capsule, array_capsule);
  if (array->length() != 1)
    throw StatusError(arrow::Status::Invalid("literal must have one value"));
  return Lit(ValueOrThrow(array->GetScalar(0)));
}

/// `expr`, unless it nests deeper than the engine accepts (kMaxExpressionDepth): then
/// SluiceValueError now, while it is still shallow enough to be destroyed safely (Arrow's
/// expressions free their arguments recursively).
Expression WithinDepthLimit(Expression expr) {
  Check(CheckExpressionDepth(expr, "expression"));
  return expr;
}

Expression CallFunction(const std::string& name, const std::vector<Expression>& args) {
  if (name == "add") return Add(args.at(0), args.at(1));
  if (name == "subtract") return Subtract(args.at(0), args.at(1));
  if (name == "multiply") return Multiply(args.at(0), args.at(1));
  if (name == "truediv") return TrueDivide(args.at(0), args.at(1));
  if (name == "floordiv") return FloorDivide(args.at(0), args.at(1));
  if (name == "mod") return Modulo(args.at(0), args.at(1));
  if (name == "neg") return Negate(args.at(0));
  if (name == "eq") return Equal(args.at(0), args.at(1));
  if (name == "ne") return NotEqual(args.at(0), args.at(1));
  if (name == "lt") return Less(args.at(0), args.at(1));
  if (name == "le") return LessEqual(args.at(0), args.at(1));
  if (name == "gt") return Greater(args.at(0), args.at(1));
  if (name == "ge") return GreaterEqual(args.at(0), args.at(1));
  if (name == "and") return And(args.at(0), args.at(1));
  if (name == "or") return Or(args.at(0), args.at(1));
  if (name == "not") return Not(args.at(0));
  if (name == "is_null") return IsNull(args.at(0));
  if (name == "is_valid") return IsValid(args.at(0));
  if (name == "lower") return StrLower(args.at(0));
  if (name == "upper") return StrUpper(args.at(0));
  if (name == "length") return StrLength(args.at(0));
  // Any other Arrow compute function without options, e.g. "abs", "round", "year".
  return arrow::compute::call(name, args);
}

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

nb::dict DatabaseToDict(const DatabaseInfo& db) {
  nb::dict d;
  d["name"] = db.name;
  d["description"] = db.description;
  d["location"] = db.location;
  d["created_at_ms"] = db.created_at_ms;
  d["tables"] = db.tables;
  return d;
}

nb::dict TableToDict(const TableInfo& t) {
  nb::dict d;
  d["name"] = t.qualified_name();
  d["database"] = t.database;
  d["table"] = t.name;
  d["location"] = t.location;
  d["format"] = t.format;
  d["schema"] = t.schema ? nb::object(ExportSchemaCapsule(*t.schema)) : nb::none();
  d["partition_cols"] = t.partition_cols;
  d["parameters"] = t.parameters;
  d["version"] = t.version;
  d["created_at_ms"] = t.created_at_ms;
  d["updated_at_ms"] = t.updated_at_ms;
  d["rows"] = t.rows;
  d["bytes"] = t.bytes;
  d["files"] = t.files;
  d["partitions"] = t.partitions;
  return d;
}

nb::dict PartitionToDict(const PartitionInfo& p) {
  nb::dict d;
  d["spec"] = p.spec;
  nb::dict values;
  for (const auto& [key, value] : p.values) {
    values[nb::str(key.c_str())] = value ? nb::object(nb::str(value->c_str())) : nb::none();
  }
  d["values"] = values;
  d["location"] = p.location;
  d["rows"] = p.rows;
  d["bytes"] = p.bytes;
  d["files"] = p.files;
  d["version"] = p.version;
  return d;
}

}  // namespace

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

/// The session a binding call names, or the default one.
Session SessionOr(const Session* session) { return session ? *session : Session::Default(); }

/// `base` with the settings given as keyword arguments (those of sl.configure) replaced.
EngineConfig ApplySettings(EngineConfig config, const nb::kwargs& settings) {
  for (auto [key, value] : settings) {
    const std::string name = nb::cast<std::string>(key);
    if (value.is_none()) continue;
    if (name == "num_threads") {
      config.num_threads = nb::cast<int>(value);
    } else if (name == "memory_limit_bytes") {
      config.memory_limit_bytes = nb::cast<int64_t>(value);
    } else if (name == "batch_rows") {
      config.batch_rows = nb::cast<int64_t>(value);
    } else if (name == "progress") {
      config.progress = nb::cast<bool>(value);
    } else if (name == "spill_dir") {
      config.spill_dir = nb::cast<std::string>(value);
    } else if (name == "s3_endpoint") {
      config.s3_endpoint = nb::cast<std::string>(value);
    } else if (name == "s3_region") {
      config.s3_region = nb::cast<std::string>(value);
    } else if (name == "s3_scheme") {
      config.s3_scheme = nb::cast<std::string>(value);
    } else if (name == "catalog_path") {
      config.catalog_path = nb::cast<std::string>(value);
    } else if (name == "log") {
      config.log = nb::cast<std::string>(value);
    } else {
      throw nb::type_error(("unknown setting '" + name + "'").c_str());
    }
  }
  return config;
}

nb::dict ConfigToDict(const EngineConfig& c) {
  nb::dict d;
  d["num_threads"] = c.num_threads;
  d["memory_limit_bytes"] = c.memory_limit_bytes;
  d["batch_rows"] = c.batch_rows;
  d["progress"] = c.progress;
  d["spill_dir"] = c.spill_dir;
  d["s3_endpoint"] = c.s3_endpoint;
  d["s3_region"] = c.s3_region;
  d["s3_scheme"] = c.s3_scheme;
  d["catalog_path"] = c.catalog_path;
  d["log"] = c.log;
  return d;
}

nb::dict SessionStatsToDict(const SessionStats& s) {
  nb::dict d;
  d["executions_started"] = s.executions_started;
  d["executions_running"] = s.executions_running;
  d["executions_failed"] = s.executions_failed;
  d["cpu_seconds"] = s.cpu_seconds;
  d["rows_out"] = s.rows_out;
  d["spilled_bytes"] = s.spilled_bytes;
  d["bad_records_skipped"] = s.bad_records_skipped;
  d["bad_records_collected"] = s.bad_records_collected;
  d["memory_bytes"] = s.memory_bytes;
  d["peak_memory_bytes"] = s.peak_memory_bytes;
  d["memory_limit_bytes"] = s.memory_limit_bytes;
  return d;
}

NB_MODULE(_sluice, m) {
  m.doc() = "Sluice engine binding (internal; use the sluice package)";
  Check(arrow::compute::Initialize());
  // A plan holds the user's Python functions, whose globals often hold the Dataset that
  // holds the plan: a cycle through C++ that Python's collector cannot see and that
  // lives until exit. nanobind would report each as a leak when the interpreter stops.
  nb::set_leak_warnings(false);
  nb::module_ errors = nb::module_::import_("sluice.errors");
  RegisterStatusTranslation(errors);

  // ---- configuration
  // Settings are per session; the module-level configure/current_config act on the
  // default one (sl.configure), a Session object's methods on that session.
  nb::class_<Session>(m, "Session")
      .def_static(
          "make", [](nb::kwargs settings) {
            return ValueOrThrow(Session::Make(ApplySettings(EngineConfig{}, settings)));
          })
      .def_static("default", &Session::Default)
      .def_prop_ro("id", &Session::id)
      .def("configure",
           [](Session& s, nb::kwargs settings) {
             Check(s.Configure(ApplySettings(s.config(), settings)));
           })
      .def("config", [](const Session& s) { return ConfigToDict(s.config()); })
      .def("stats", [](const Session& s) { return SessionStatsToDict(s.Stats()); })
      .def("stats_text", [](const Session& s) { return DisplayText(s.Stats().ToString()); })
      .def("cancel", &Session::Cancel);
  RegisterEventListeners(m);
  RegisterFragments(m);
  RegisterPythonFunctionDeserializer();
  m.def(
      "deserialize_plan",
      [](nb::bytes bytes, const Session* session) {
        return ValueOrThrow(Dataset::DeserializePlan(std::string(bytes.c_str(), bytes.size()),
                                                     SessionOr(session)));
      },
      "bytes"_a, "session"_a = nb::none());
  m.def("configure", [](nb::kwargs settings) {
    Session session = Session::Default();
    Check(session.Configure(ApplySettings(session.config(), settings)));
  });
  m.def("current_config", []() { return ConfigToDict(CurrentConfig()); });
  // Registered with atexit by the package: the AWS SDK must shut down before static
  // destructors run.
  m.def("release_process_resources", &ReleaseProcessResources);
  m.def(
      "vacuum",
      [](const std::string& path, int64_t retention_seconds) {
        VacuumResult result = WithoutGil([&] { return Vacuum(path, retention_seconds); });
        nb::dict out;
        out["removed_staging_dirs"] = result.removed_staging_dirs;
        out["removed_files"] = result.removed_files;
        out["removed_bytes"] = result.removed_bytes;
        return out;
      },
      "path"_a, "retention_seconds"_a);
  // ---- catalog
  m.def("parse_predicate",
        [](const std::string& text) { return ValueOrThrow(ParsePredicate(text)); });
  m.def(
      "read_table",
      [](const std::string& name, std::optional<Expression> filter,
         std::vector<std::string> columns, const Session* session) {
        ReadTableOptions options;
        options.filter = std::move(filter);
        options.columns = std::move(columns);
        return WithoutGil([&] { return ReadTable(name, options, SessionOr(session)); });
      },
      "name"_a, "filter"_a = nb::none(), "columns"_a = std::vector<std::string>{},
      "session"_a.none() = nb::none());
  nb::class_<Catalog>(m, "Catalog")
      .def_static(
          "open",
          [](const std::string& path) { return WithoutGil([&] { return Catalog::Open(path); }); })
      .def_prop_ro("path", &Catalog::path)
      .def("create_database",
           [](Catalog& c, const std::string& name, const std::string& description,
              const std::string& location, bool if_not_exists) {
             Check(c.CreateDatabase(name, description, location, if_not_exists));
           })
      .def("list_databases",
           [](Catalog& c) {
             nb::list out;
             for (const auto& db : ValueOrThrow(c.ListDatabases())) out.append(DatabaseToDict(db));
             return out;
           })
      .def("drop_database", [](Catalog& c, const std::string& name, bool cascade,
                               bool if_exists) { Check(c.DropDatabase(name, cascade, if_exists)); })
      .def("create_table",
           [](Catalog& c, const std::string& name, const std::string& location,
              const std::string& format, nb::object schema, std::vector<std::string> partition_cols,
              std::map<std::string, std::string> parameters, bool if_not_exists) {
             CreateTableOptions options;
             options.location = location;
             options.format = format;
             if (!schema.is_none()) options.schema = ImportSchemaCapsule(schema);
             options.partition_cols = std::move(partition_cols);
             options.parameters = std::move(parameters);
             options.if_not_exists = if_not_exists;
             Check(c.CreateTable(name, options));
           })
      .def("list_tables",
           [](Catalog& c, const std::string& database) {
             nb::list out;
             for (const auto& t : ValueOrThrow(c.ListTables(database))) out.append(TableToDict(t));
             return out;
           })
      .def("describe_table",
           [](Catalog& c, const std::string& name) {
             return TableToDict(ValueOrThrow(c.DescribeTable(name)));
           })
      .def("drop_table", [](Catalog& c, const std::string& name,
                            bool if_exists) { Check(c.DropTable(name, if_exists)); })
      .def("set_table_parameters",
           [](Catalog& c, const std::string& name, std::map<std::string, std::string> params) {
             Check(c.SetTableParameters(name, params));
           })
      .def("list_partitions",
           [](Catalog& c, const std::string& name, std::optional<Expression> filter) {
             nb::list out;
             for (const auto& p : ValueOrThrow(c.ListPartitions(name, filter))) {
               out.append(PartitionToDict(p));
             }
             return out;
           })
      .def("history",
           [](Catalog& c, const std::string& name) {
             nb::list out;
             for (const auto& v : ValueOrThrow(c.History(name))) {
               nb::dict d;
               d["version"] = v.version;
               d["operation"] = v.operation;
               d["committed_at_ms"] = v.committed_at_ms;
               d["write_id"] = v.write_id;
               d["rows_added"] = v.rows_added;
               d["files_added"] = v.files_added;
               d["partitions"] = v.partitions;
               d["schema_change"] = v.schema_change;
               out.append(d);
             }
             return out;
           })
      .def("crawl", [](Catalog& c, const std::string& path, const std::string& table,
                       const std::string& format, bool follow_symlinks) {
        CrawlResult r = WithoutGil([&] { return c.Crawl(path, table, format, follow_symlinks); });
        nb::dict d;
        d["table"] = r.table;
        d["created"] = r.created;
        d["added_partitions"] = r.added_partitions;
        d["unchanged_partitions"] = r.unchanged_partitions;
        d["missing_partitions"] = r.missing_partitions;
        d["schema_change"] = r.schema_change;
        return d;
      });

  m.def("parse_byte_size",
        [](const std::string& text) { return ValueOrThrow(ParseByteSize(text)); });

  nb::class_<BatchIterator>(m, "BatchIterator")
      .def("schema", &BatchIterator::schema)
      .def("next", &BatchIterator::Next)
      .def("close", &BatchIterator::Close);

  // ---- expressions
  nb::class_<Expression>(m, "Expr")
      .def("__repr__", [](const Expression& e) { return DisplayText(DescribeExpression(e, 2000)); })
      .def("depth", [](const Expression& e) { return ExpressionDepth(e); })
      .def("referenced_columns",
           [](const Expression& e) {
             std::vector<std::string> names;
             for (const auto& ref : arrow::compute::FieldsInExpression(e)) {
               if (ref.name()) names.push_back(*ref.name());
             }
             return names;
           })
      .def("equals", [](const Expression& a, const Expression& b) { return a.Equals(b); });
  m.def("expr_col", [](const std::string& name) { return Col(name); });
  m.def("expr_lit", &ScalarLiteral);
  // Python's bool, int, float and str as pa.array([value]) would type them (bool, int64,
  // double, string), without building an array: expressions may have 100,000 literals.
  m.def("expr_lit_bool", [](bool value) { return Lit(value); });
  m.def("expr_lit_int64", [](int64_t value) { return Lit(value); });
  m.def("expr_lit_double", [](double value) { return Lit(value); });
  m.def("expr_lit_string", [](const std::string& value) { return Lit(value); });
  m.attr("MAX_EXPRESSION_DEPTH") = kMaxExpressionDepth;
  m.def("expr_call", [](const std::string& name, const std::vector<Expression>& args) {
    return WithinDepthLimit(CallFunction(name, args));
  });
  m.def("expr_all_of", [](std::vector<Expression> terms) {
    return WithinDepthLimit(AllOf(std::move(terms)));
  });
  m.def("expr_any_of", [](std::vector<Expression> terms) {
    return WithinDepthLimit(AnyOf(std::move(terms)));
  });
  m.def("expr_is_in", [](const Expression& e, nb::handle schema, nb::handle array) {
    return WithinDepthLimit(IsIn(e, ImportArrayCapsules(schema, array)));
  });
  m.def("expr_cast", [](const Expression& e, nb::handle type_capsule, bool safe) {
    return WithinDepthLimit(Cast(e, ImportTypeCapsule(type_capsule), safe));
  });
  m.def("expr_match", [](const std::string& kind, const Expression& e, const std::string& pattern,
                         bool ignore_case) {
    if (kind == "contains") return WithinDepthLimit(StrContains(e, pattern, ignore_case));
    if (kind == "starts_with") return WithinDepthLimit(StrStartsWith(e, pattern, ignore_case));
    if (kind == "ends_with") return WithinDepthLimit(StrEndsWith(e, pattern, ignore_case));
    throw StatusError(arrow::Status::Invalid("unknown string match '", kind, "'"));
  });

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
}

}  // namespace sluice::python
