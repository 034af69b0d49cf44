// sluice._sluice: sessions and their settings (sl.Session, sl.configure).

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

}  // namespace

/// The session a binding call names, or the default one.
Session SessionOr(const Session* session) { return session ? *session : Session::Default(); }

void RegisterSessions(nb::module_& m) {
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
  m.def("configure", [](nb::kwargs settings) {
    Session session = Session::Default();
    Check(session.Configure(ApplySettings(session.config(), settings)));
  });
  m.def("current_config", []() { return ConfigToDict(CurrentConfig()); });
  // Registered with atexit by the package: the AWS SDK must shut down before static
  // destructors run.
  m.def("release_process_resources", &ReleaseProcessResources);
  m.def("parse_byte_size",
        [](const std::string& text) { return ValueOrThrow(ParseByteSize(text)); });
}

}  // namespace sluice::python
