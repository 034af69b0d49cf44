// The nanobind module sluice._sluice: a thin layer over the C++ API, one file per area
// (sessions, expressions, catalog, datasets, events, fragments). Every call that may run
// the engine releases the GIL; errors leave through StatusError and the translator in
// status_translation.cc. Data crosses only as Arrow C Data Interface capsules.

#include <arrow/compute/initialize.h>
#include <nanobind/nanobind.h>

#include "event_listeners.h"
#include "fragments_binding.h"
#include "module_areas.h"
#include "python_udf.h"
#include "status_translation.h"

namespace nb = nanobind;

namespace sluice::python {

NB_MODULE(_sluice, m) {
  m.doc() = "Sluice engine binding (internal; use the sluice package)";
  Check(arrow::compute::Initialize());
  // A plan holds the user's Python functions, whose globals often hold the Dataset that
  // holds the plan: a cycle through C++ that Python's collector cannot see and that
  // lives until exit. nanobind would report each as a leak when the interpreter stops.
  nb::set_leak_warnings(false);
  nb::module_ errors = nb::module_::import_("sluice.errors");
  RegisterStatusTranslation(errors);

  RegisterSessions(m);
  RegisterExpressions(m);
  RegisterCatalog(m);
  RegisterDatasets(m);
  RegisterEventListeners(m);
  RegisterFragments(m);
  RegisterPythonFunctionDeserializer();
}

}  // namespace sluice::python
