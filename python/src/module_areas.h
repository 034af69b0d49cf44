#pragma once

// The areas of the sluice._sluice module (binding.cc registers each), and what several of
// them share.

#include <nanobind/nanobind.h>

#include <optional>
#include <utility>

#include "sluice/session.h"
#include "status_translation.h"

namespace sluice::python {

void RegisterSessions(nanobind::module_& m);
void RegisterExpressions(nanobind::module_& m);
void RegisterCatalog(nanobind::module_& m);
void RegisterDatasets(nanobind::module_& m);

/// The session a binding call names, or the default one.
Session SessionOr(const Session* session);

/// Runs `fn` with the GIL released and returns its value or throws its error.
template <typename Fn>
auto WithoutGil(Fn&& fn) {
  using ResultType = decltype(fn());
  std::optional<ResultType> result;
  {
    nanobind::gil_scoped_release release;
    result.emplace(fn());
  }
  return ValueOrThrow(std::move(*result));
}

}  // namespace sluice::python
