#include "fragments_binding.h"

#include <arrow/table.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

#include "arrow_capsules.h"
#include "display_text.h"
#include "sluice/fragments.h"
#include "status_translation.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace sluice::python {

namespace {

nb::dict ExchangeToDict(const FragmentExchange& exchange) {
  nb::dict out;
  out["kind"] = exchange.kind;
  out["keys"] = exchange.keys;
  nb::list sort_keys;
  for (const auto& key : exchange.sort_keys) {
    sort_keys.append(nb::make_tuple(key.column, key.descending, key.nulls_first));
  }
  out["sort_keys"] = sort_keys;
  out["partitions"] = exchange.partitions;
  return out;
}

FragmentExchange ExchangeFromDict(const nb::dict& exchange) {
  FragmentExchange out;
  out.kind = nb::cast<std::string>(exchange["kind"]);
  if (exchange.contains("keys")) out.keys = nb::cast<std::vector<std::string>>(exchange["keys"]);
  if (exchange.contains("sort_keys")) {
    for (const auto& key :
         nb::cast<std::vector<std::tuple<std::string, bool, bool>>>(exchange["sort_keys"])) {
      out.sort_keys.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key)});
    }
  }
  if (exchange.contains("partitions")) out.partitions = nb::cast<int>(exchange["partitions"]);
  return out;
}

std::shared_ptr<arrow::Table> ImportTable(nb::handle capsule) {
  return ValueOrThrow(ImportStreamCapsule(capsule)->ToTable());
}

nb::list ExportTables(const std::vector<std::shared_ptr<arrow::Table>>& tables) {
  nb::list out;
  for (const auto& table : tables) {
    out.append(ExportStreamCapsule(std::make_shared<arrow::TableBatchReader>(table)));
  }
  return out;
}

std::vector<std::shared_ptr<arrow::Table>> ImportTables(const nb::list& capsules) {
  std::vector<std::shared_ptr<arrow::Table>> out;
  for (nb::handle capsule : capsules) out.push_back(ImportTable(capsule));
  return out;
}

nb::dict SplitToDict(const ScanSplit& split) {
  nb::dict out;
  out["label"] = split.label;
  out["payload"] = split.payload;
  out["rows"] = split.rows ? nb::cast(*split.rows) : nb::none();
  out["bytes"] = split.bytes ? nb::cast(*split.bytes) : nb::none();
  return out;
}

ScanSplit SplitFromDict(const nb::dict& split) {
  ScanSplit out;
  out.label = nb::cast<std::string>(split["label"]);
  out.payload = nb::cast<std::string>(split["payload"]);
  if (split.contains("rows") && !split["rows"].is_none()) out.rows = nb::cast<int64_t>(split["rows"]);
  if (split.contains("bytes") && !split["bytes"].is_none()) {
    out.bytes = nb::cast<int64_t>(split["bytes"]);
  }
  return out;
}

}  // namespace

void RegisterFragments(nb::module_& m) {
  nb::class_<FragmentedWrite>(m, "FragmentedWrite")
      .def_prop_ro("writer",
                   [](const FragmentedWrite& w) {
                     return nb::make_tuple(w.writer().kind,
                                           nb::bytes(w.writer().payload.data(),
                                                     w.writer().payload.size()));
                   })
      .def("commit", [](FragmentedWrite& w, const nb::list& task_outputs) {
        auto tables = ImportTables(task_outputs);
        WriteResult result;
        {
          nb::gil_scoped_release release;
          result = ValueOrThrow(w.Commit(tables));
        }
        nb::dict out;
        out["files"] = result.files;
        out["rows"] = result.rows;
        out["bytes"] = result.bytes;
        return out;
      });

  nb::class_<FragmentedPlan>(m, "FragmentedPlan")
      .def_static(
          "cut",
          [](const Dataset& d, int hash_partitions) {
            // With the GIL: the fragments' Python functions are pickled.
            return ValueOrThrow(FragmentedPlan::Cut(d, hash_partitions));
          },
          "dataset"_a, "hash_partitions"_a)
      .def_static(
          "cut_write",
          [](const Dataset& d, int hash_partitions, const std::string& format,
             const std::string& path, const std::string& mode,
             std::vector<std::string> partition_cols, const std::string& compression,
             std::optional<int64_t> max_rows_per_file, const std::string& delimiter, bool header) {
            WriteOptions options;
            options.mode = ValueOrThrow(ParseWriteMode(mode));
            options.partition_cols = std::move(partition_cols);
            options.compression = compression;
            options.max_rows_per_file = max_rows_per_file;
            if (delimiter.size() != 1) {
              throw nb::value_error("delimiter must be one character");
            }
            options.delimiter = delimiter[0];
            options.header = header;
            return ValueOrThrow(FragmentedPlan::CutWrite(d, format, path, options, hash_partitions));
          },
          "dataset"_a, "hash_partitions"_a, "format"_a, "path"_a, "mode"_a = "error",
          "partition_cols"_a = std::vector<std::string>{}, "compression"_a = "",
          "max_rows_per_file"_a = nb::none(), "delimiter"_a = ",", "header"_a = true)
      .def("fragments",
           [](const FragmentedPlan& p) {
             nb::list out;
             for (const auto& f : p.fragments()) {
               nb::dict info;
               info["id"] = f.id;
               info["plan"] = nb::bytes(f.plan.data(), f.plan.size());
               info["inputs"] = f.inputs;
               info["scans"] = f.scans;
               info["output"] = ExchangeToDict(f.output);
               out.append(info);
             }
             return out;
           })
      .def_prop_ro("writes", &FragmentedPlan::writes)
      .def("schema",
           [](const FragmentedPlan& p) -> nb::object {
             auto schema = p.schema();
             if (!schema) return nb::none();
             return ExportSchemaCapsule(*schema);
           })
      .def("explain", [](const FragmentedPlan& p) { return DisplayText(p.ToString()); })
      .def(
          "list_splits",
          [](const FragmentedPlan& p, int fragment, int scan, int64_t target_bytes) {
            std::vector<ScanSplit> splits;
            {
              nb::gil_scoped_release release;
              splits = ValueOrThrow(p.ListSplits(fragment, scan, target_bytes));
            }
            nb::list out;
            for (const auto& split : splits) out.append(SplitToDict(split));
            return out;
          },
          "fragment"_a, "scan"_a, "target_bytes"_a)
      .def("begin_write", [](const FragmentedPlan& p) {
        nb::gil_scoped_release release;
        return ValueOrThrow(p.BeginWrite());
      });

  m.def(
      "run_fragment_task",
      [](nb::bytes plan, std::optional<nb::list> splits, const nb::list& inputs,
         const nb::dict& output, nb::object range_boundaries,
         std::optional<std::tuple<std::string, nb::bytes>> writer, int64_t task_index,
         const Session* session) {
        FragmentTaskSpec spec;
        spec.plan = std::string(plan.c_str(), plan.size());
        if (splits) {
          std::vector<std::vector<ScanSplit>> per_scan;
          for (nb::handle scan : *splits) {
            std::vector<ScanSplit> converted;
            for (nb::handle split : nb::cast<nb::list>(scan)) {
              converted.push_back(SplitFromDict(nb::cast<nb::dict>(split)));
            }
            per_scan.push_back(std::move(converted));
          }
          spec.splits = std::move(per_scan);
        }
        for (nb::handle input : inputs) spec.inputs.push_back(ImportTables(nb::cast<nb::list>(input)));
        spec.output = ExchangeFromDict(output);
        if (!range_boundaries.is_none()) spec.range_boundaries = ImportTable(range_boundaries);
        if (writer) {
          const auto& payload = std::get<1>(*writer);
          spec.writer = FragmentWriter{std::get<0>(*writer), std::string(payload.c_str(), payload.size())};
        }
        spec.task_index = task_index;
        const Session run_in = session ? *session : Session::Default();
        std::vector<std::shared_ptr<arrow::Table>> tables;
        {
          // Workers that run Python functions take the GIL themselves.
          nb::gil_scoped_release release;
          tables = ValueOrThrow(RunFragmentTask(spec, run_in));
        }
        return ExportTables(tables);
      },
      "plan"_a, "splits"_a = nb::none(), "inputs"_a = nb::list(), "output"_a = nb::dict(),
      "range_boundaries"_a = nb::none(), "writer"_a = nb::none(), "task_index"_a = 0,
      "session"_a = nb::none());

  m.def(
      "sample_range_boundaries",
      [](const nb::list& tables, const std::vector<std::tuple<std::string, bool, bool>>& keys,
         int partitions, int64_t sample_rows) {
        std::vector<SortKey> sort_keys;
        for (const auto& [column, descending, nulls_first] : keys) {
          sort_keys.push_back({column, descending, nulls_first});
        }
        auto imported = ImportTables(tables);
        std::shared_ptr<arrow::Table> bounds;
        {
          nb::gil_scoped_release release;
          bounds = ValueOrThrow(SampleRangeBoundaries(imported, sort_keys, partitions, sample_rows));
        }
        return ExportStreamCapsule(std::make_shared<arrow::TableBatchReader>(bounds));
      },
      "tables"_a, "sort_keys"_a, "partitions"_a, "sample_rows"_a = 10000);

  m.def(
      "partition_fragment_output",
      [](nb::handle table, const nb::dict& exchange, nb::object range_boundaries) {
        auto imported = ImportTable(table);
        std::shared_ptr<arrow::Table> bounds;
        if (!range_boundaries.is_none()) bounds = ImportTable(range_boundaries);
        const FragmentExchange converted = ExchangeFromDict(exchange);
        std::vector<std::shared_ptr<arrow::Table>> parts;
        {
          nb::gil_scoped_release release;
          parts = ValueOrThrow(PartitionFragmentOutput(imported, converted, bounds));
        }
        return ExportTables(parts);
      },
      "table"_a, "exchange"_a, "range_boundaries"_a = nb::none());

  m.def(
      "cut_into_blocks",
      [](const nb::list& tables, int blocks) {
        auto imported = ImportTables(tables);
        return ExportTables(ValueOrThrow(CutIntoBlocks(imported, blocks)));
      },
      "tables"_a, "blocks"_a);
}

}  // namespace sluice::python
