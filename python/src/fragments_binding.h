#pragma once

#include <nanobind/nanobind.h>

namespace sluice::python {

/// _sluice.FragmentedPlan, FragmentedWrite, run_fragment_task and the exchange helpers
/// behind sluice.fragments (sluice/fragments.h).
void RegisterFragments(nanobind::module_& m);

}  // namespace sluice::python
