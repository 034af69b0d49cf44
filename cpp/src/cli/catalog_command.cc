// `sluice catalog ACTION [NAME]`: the table catalog from the command line (databases,
// tables, partitions with a filter, history), and `sluice crawl PATH --table db.t`.

#include <arrow/array/builder_binary.h>
#include <arrow/array/builder_primitive.h>
#include <arrow/record_batch.h>
#include <arrow/type.h>

#include <ctime>
#include <iostream>

#include "cli/command.h"
#include "cli/engine_options.h"
#include "cli/text_table.h"
#include "sluice/catalog.h"
#include "sluice/config.h"

namespace sluice::cli {

namespace {

constexpr const char* kActions =
    "databases, create-database, drop-database, tables, create-table, describe, drop-table, "
    "partitions, history";

/// Rows of text printed as an aligned table (numbers right-aligned).
class TextRows {
 public:
  explicit TextRows(std::vector<std::pair<std::string, bool>> columns)
      : columns_(std::move(columns)), cells_(columns_.size()) {}
  void Add(std::vector<std::string> row) {
    for (size_t i = 0; i < row.size(); ++i) cells_[i].push_back(std::move(row[i]));
  }
  arrow::Result<std::string> Format() const {
    arrow::FieldVector fields;
    arrow::ArrayVector arrays;
    for (size_t c = 0; c < columns_.size(); ++c) {
      if (columns_[c].second) {
        arrow::Int64Builder builder;
        for (const auto& cell : cells_[c]) {
          if (cell.empty()) {
            ARROW_RETURN_NOT_OK(builder.AppendNull());
          } else {
            ARROW_RETURN_NOT_OK(builder.Append(std::stoll(cell)));
          }
        }
        ARROW_ASSIGN_OR_RAISE(auto array, builder.Finish());
        arrays.push_back(std::move(array));
        fields.push_back(arrow::field(columns_[c].first, arrow::int64()));
      } else {
        arrow::StringBuilder builder;
        ARROW_RETURN_NOT_OK(builder.AppendValues(cells_[c]));
        ARROW_ASSIGN_OR_RAISE(auto array, builder.Finish());
        arrays.push_back(std::move(array));
        fields.push_back(arrow::field(columns_[c].first, arrow::utf8()));
      }
    }
    auto schema = arrow::schema(fields);
    const int64_t rows = cells_.empty() ? 0 : static_cast<int64_t>(cells_[0].size());
    TextTableOptions options;
    options.max_cell_width = 80;
    return FormatTextTable(*schema, {arrow::RecordBatch::Make(schema, rows, arrays)}, options);
  }

 private:
  std::vector<std::pair<std::string, bool>> columns_;
  std::vector<std::vector<std::string>> cells_;
};

std::string Count(int64_t value) { return value < 0 ? "" : std::to_string(value); }

std::string Size(int64_t bytes) { return bytes < 0 ? "?" : FormatByteSize(bytes); }

std::string Time(int64_t millis) {
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &utc);
  return text;
}

std::string Join(const std::vector<std::string>& items, const char* separator = ", ") {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? separator : "") + items[i];
  return out;
}

arrow::Result<std::string> RequireName(const ParsedArguments& args, const std::string& action) {
  if (args.positionals().size() < 2) {
    return UsageError("'sluice catalog " + action + "' needs a name");
  }
  return args.positionals()[1];
}

ArgumentParser MakeCatalogParser() {
  ArgumentParser parser("sluice catalog",
                        "Lists and changes the table catalog: databases, tables, partitions "
                        "(with a filter on partition columns) and table history.");
  parser.AddPositional({.name = "ACTION", .help = std::string("One of: ") + kActions + "."})
      .AddPositional({.name = "NAME",
                      .help = "Database or table (database.table) the action is about.",
                      .min_count = 0,
                      .max_count = 1})
      .AddOption({.name = "filter",
                  .value_name = "EXPR",
                  .help = "partitions: only those matching, e.g. \"year = 2015 AND marketplace "
                          "IN ('US','UK')\"."})
      .AddOption({.name = "description", .value_name = "TEXT", .help = "create-database."})
      .AddOption({.name = "location",
                  .value_name = "PATH",
                  .help = "create-database: where its tables go by default; create-table: "
                          "where the table's files are."})
      .AddOption({.name = "format",
                  .value_name = "FORMAT",
                  .help = "create-table: parquet, csv or json.",
                  .default_text = "parquet"})
      .AddOption({.name = "partition-cols",
                  .value_name = "A,B",
                  .help = "create-table: Hive partition columns, outermost first."})
      .AddOption({.name = "parameter",
                  .value_name = "KEY=VALUE",
                  .help = "create-table: a table parameter (one; more with the Python API)."})
      .AddOption({.name = "cascade",
                  .help = "drop-database: also drop its tables' "
                          "registrations (never their data)."})
      .AddOption({.name = "if-exists", .help = "drop-*: no error when it does not exist."})
      .AddOption({.name = "if-not-exists", .help = "create-database: no error when it exists."});
  AddEngineOptions(parser);
  parser.SetEpilog(
      "Examples:\n"
      "  sluice catalog databases\n"
      "  sluice catalog tables sales\n"
      "  sluice catalog create-table sales.events --location s3://lake/events "
      "--partition-cols year\n"
      "  sluice catalog describe sales.reviews\n"
      "  sluice catalog partitions sales.reviews --filter \"year = 2015 AND marketplace IN "
      "('US','UK')\"\n"
      "  sluice catalog history sales.reviews\n");
  return parser;
}

arrow::Result<int> RunCatalog(const ParsedArguments& args) {
  ARROW_RETURN_NOT_OK(ConfigureEngine(args));
  const std::string action = args.positionals()[0];
  ARROW_ASSIGN_OR_RAISE(auto catalog, Catalog::Open());
  std::string out;
  if (action == "databases") {
    ARROW_ASSIGN_OR_RAISE(auto databases, catalog->ListDatabases());
    TextRows rows(
        {{"database", false}, {"tables", true}, {"location", false}, {"description", false}});
    for (const auto& db : databases) {
      rows.Add({db.name, std::to_string(db.tables), db.location, db.description});
    }
    ARROW_ASSIGN_OR_RAISE(out, rows.Format());
  } else if (action == "create-database") {
    ARROW_ASSIGN_OR_RAISE(std::string name, RequireName(args, action));
    ARROW_RETURN_NOT_OK(catalog->CreateDatabase(name, args.ValueOr("description", ""),
                                                args.ValueOr("location", ""),
                                                args.Has("if-not-exists")));
    out = "created database " + name + "\n";
  } else if (action == "drop-database") {
    ARROW_ASSIGN_OR_RAISE(std::string name, RequireName(args, action));
    ARROW_RETURN_NOT_OK(catalog->DropDatabase(name, args.Has("cascade"), args.Has("if-exists")));
    out = "dropped database " + name + "\n";
  } else if (action == "tables") {
    const std::string database = args.positionals().size() > 1 ? args.positionals()[1] : "default";
    ARROW_ASSIGN_OR_RAISE(auto tables, catalog->ListTables(database));
    TextRows rows({{"table", false},
                   {"format", false},
                   {"partitioned by", false},
                   {"partitions", true},
                   {"rows", true},
                   {"size", false},
                   {"version", true},
                   {"location", false}});
    for (const auto& t : tables) {
      rows.Add({t.qualified_name(), t.format, Join(t.partition_cols), std::to_string(t.partitions),
                Count(t.rows), Size(t.bytes), std::to_string(t.version), t.location});
    }
    ARROW_ASSIGN_OR_RAISE(out, rows.Format());
  } else if (action == "create-table") {
    ARROW_ASSIGN_OR_RAISE(std::string name, RequireName(args, action));
    CreateTableOptions options;
    options.location = args.ValueOr("location", "");
    if (options.location.empty()) return UsageError("create-table needs --location");
    options.format = args.ValueOr("format", "parquet");
    const std::string columns = args.ValueOr("partition-cols", "");
    for (size_t start = 0; start < columns.size();) {
      size_t comma = columns.find(',', start);
      if (comma == std::string::npos) comma = columns.size();
      if (comma > start) options.partition_cols.push_back(columns.substr(start, comma - start));
      start = comma + 1;
    }
    if (auto parameter = args.Value("parameter")) {
      const size_t equals = parameter->find('=');
      if (equals == std::string::npos || equals == 0) {
        return UsageError("--parameter takes KEY=VALUE, got '" + *parameter + "'");
      }
      options.parameters[parameter->substr(0, equals)] = parameter->substr(equals + 1);
    }
    ARROW_RETURN_NOT_OK(catalog->CreateTable(name, options));
    out = "created table " + name + " at " + options.location +
          " (its schema comes with the first write or crawl)\n";
  } else if (action == "describe") {
    ARROW_ASSIGN_OR_RAISE(std::string name, RequireName(args, action));
    ARROW_ASSIGN_OR_RAISE(TableInfo t, catalog->DescribeTable(name));
    out += "table:        " + t.qualified_name() + "\n";
    out += "location:     " + t.location + "\n";
    out += "format:       " + t.format + "\n";
    out += "version:      " + std::to_string(t.version) + " (updated " + Time(t.updated_at_ms) +
           " UTC)\n";
    out += "rows:         " + (t.rows < 0 ? std::string("unknown") : std::to_string(t.rows)) + "\n";
    out += "size:         " + Size(t.bytes) + " in " + std::to_string(t.files) + " files\n";
    if (!t.partition_cols.empty()) {
      out +=
          "partitions:   " + std::to_string(t.partitions) + " by " + Join(t.partition_cols) + "\n";
    }
    for (const auto& [key, value] : t.parameters)
      out += "parameter:    " + key + " = " + value + "\n";
    out += "schema:\n";
    if (t.schema) {
      for (const auto& field : t.schema->fields()) {
        const bool partition = std::find(t.partition_cols.begin(), t.partition_cols.end(),
                                         field->name()) != t.partition_cols.end();
        out += "  " + field->name() + ": " + field->type()->ToString() +
               (field->nullable() ? "" : " not null") + (partition ? "  (partition)" : "") + "\n";
      }
    }
  } else if (action == "drop-table") {
    ARROW_ASSIGN_OR_RAISE(std::string name, RequireName(args, action));
    ARROW_RETURN_NOT_OK(catalog->DropTable(name, args.Has("if-exists")));
    out = "dropped table " + name + " (its files were not touched)\n";
  } else if (action == "partitions") {
    ARROW_ASSIGN_OR_RAISE(std::string name, RequireName(args, action));
    std::optional<Expression> filter;
    if (auto text = args.Value("filter")) {
      ARROW_ASSIGN_OR_RAISE(filter, ParsePredicate(*text));
    }
    ARROW_ASSIGN_OR_RAISE(auto partitions, catalog->ListPartitions(name, filter));
    TextRows rows({{"partition", false},
                   {"rows", true},
                   {"size", false},
                   {"files", true},
                   {"version", true},
                   {"location", false}});
    for (const auto& p : partitions) {
      rows.Add({p.spec, Count(p.rows), Size(p.bytes), std::to_string(p.files),
                std::to_string(p.version), p.location});
    }
    ARROW_ASSIGN_OR_RAISE(out, rows.Format());
    out +=
        std::to_string(partitions.size()) + " partition" + (partitions.size() == 1 ? "\n" : "s\n");
  } else if (action == "history") {
    ARROW_ASSIGN_OR_RAISE(std::string name, RequireName(args, action));
    ARROW_ASSIGN_OR_RAISE(auto versions, catalog->History(name));
    TextRows rows({{"version", true},
                   {"time (UTC)", false},
                   {"operation", false},
                   {"rows added", true},
                   {"files added", true},
                   {"partitions", true},
                   {"schema change", false}});
    for (const auto& v : versions) {
      rows.Add({std::to_string(v.version), Time(v.committed_at_ms), v.operation,
                std::to_string(v.rows_added), std::to_string(v.files_added),
                std::to_string(v.partitions.size()), v.schema_change});
    }
    ARROW_ASSIGN_OR_RAISE(out, rows.Format());
  } else {
    return UsageError("unknown action '" + action + "' (actions: " + kActions + ")");
  }
  std::cout << out << std::flush;
  return 0;
}

ArgumentParser MakeCrawlParser() {
  ArgumentParser parser("sluice crawl",
                        "Registers existing data as a catalog table: infers the schema and the "
                        "Hive partitions; run again, adds only the new partitions.");
  parser.AddPositional({.name = "PATH", .help = "Directory of the table (local or s3://)."})
      .AddOption(
          {.name = "table", .value_name = "DB.TABLE", .help = "Table to register (required)."})
      .AddOption({.name = "format",
                  .value_name = "FORMAT",
                  .help = "parquet, csv or json.",
                  .default_text = "from the file names"})
      .AddOption({.name = "follow-symlinks",
                  .help = "Follow symbolic links that lead out of PATH (without it such a "
                          "link is an error; links inside PATH are followed)."});
  AddEngineOptions(parser);
  parser.SetEpilog(
      "Examples:\n"
      "  sluice crawl data/reviews --table sales.reviews\n"
      "  sluice crawl s3://lake/events --table raw.events --s3-endpoint http://127.0.0.1:9000\n");
  return parser;
}

arrow::Result<int> RunCrawl(const ParsedArguments& args) {
  std::optional<std::string> table = args.Value("table");
  if (!table) return UsageError("--table is required");
  ARROW_RETURN_NOT_OK(ConfigureEngine(args));
  ARROW_ASSIGN_OR_RAISE(auto catalog, Catalog::Open());
  ARROW_ASSIGN_OR_RAISE(CrawlResult result,
                        catalog->Crawl(args.positionals()[0], *table, args.ValueOr("format", ""),
                                       args.Has("follow-symlinks")));
  std::cout << (result.created ? "created " : "updated ") << result.table << ": "
            << result.added_partitions.size() << " new partition"
            << (result.added_partitions.size() == 1 ? "" : "s") << ", "
            << result.unchanged_partitions << " already registered";
  if (!result.missing_partitions.empty()) {
    std::cout << ", " << result.missing_partitions.size()
              << " registered but without data now (kept)";
  }
  std::cout << "\n";
  if (!result.schema_change.empty()) std::cout << "schema: " << result.schema_change << "\n";
  for (const auto& spec : result.added_partitions) {
    if (!spec.empty()) std::cout << "  + " << spec << "\n";
  }
  std::cout << std::flush;
  return 0;
}

}  // namespace

Command MakeCatalogCommand() { return Command{"catalog", MakeCatalogParser, RunCatalog}; }
Command MakeCrawlCommand() { return Command{"crawl", MakeCrawlParser, RunCrawl}; }

}  // namespace sluice::cli
