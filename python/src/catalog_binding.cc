// sluice._sluice: the table catalog, read_table and vacuum.

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

void RegisterCatalog(nb::module_& m) {
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
}

}  // namespace sluice::python
