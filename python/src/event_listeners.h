#pragma once

#include <nanobind/nanobind.h>

namespace sluice::python {

/// _sluice.add_event_listener / remove_event_listener and the EventListener handle
/// behind sl.Session.add_listener.
void RegisterEventListeners(nanobind::module_& m);

}  // namespace sluice::python
