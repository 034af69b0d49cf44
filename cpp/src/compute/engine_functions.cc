#include "compute/engine_functions.h"

#include "compute/substring_search.h"

namespace sluice::compute {

arrow::compute::FunctionRegistry* EngineFunctionRegistry() {
  // Built once and kept for the life of the process, like Arrow's own registry.
  static arrow::compute::FunctionRegistry* const registry = [] {
    arrow::compute::FunctionRegistry* arrow_registry = arrow::compute::GetFunctionRegistry();
    auto engine = arrow::compute::FunctionRegistry::Make(arrow_registry);
    // Binding treats "cast" specially by identity with the registry's own cast function,
    // which a child registry only has once "cast" is added to it.
    auto cast = arrow_registry->GetFunction("cast");
    const bool ready =
        cast.ok() && engine->AddFunction(*cast, /*allow_overwrite=*/true).ok() &&
        engine->AddFunction(MakeMatchSubstringFunction(), /*allow_overwrite=*/true).ok();
    if (!ready) return arrow_registry;  // Arrow's kernels give the same results, only slower
    return engine.release();
  }();
  return registry;
}

}  // namespace sluice::compute
