#include "compute/engine_functions.h"

#include <arrow/compute/exec.h>
#include <arrow/memory_pool.h>

#include "compute/python_modulo.h"
#include "compute/substring_search.h"

#include <arrow/util/logging.h>

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
        engine->AddFunction(MakeMatchSubstringFunction(), /*allow_overwrite=*/true).ok() &&
        engine->AddFunction(MakePythonModuloFunction()).ok();
    // Only a programming error (a name added twice) gets here; fail loudly at start-up.
    ARROW_CHECK(ready) << "cannot build Sluice's function registry";
    return engine.release();
  }();
  return registry;
}

arrow::Result<arrow::compute::Expression> BindWithEngineFunctions(
    const arrow::compute::Expression& expression, const arrow::Schema& schema) {
  // Binding only looks functions up and resolves types; it allocates nothing from the pool.
  static arrow::compute::ExecContext context(arrow::default_memory_pool(), /*executor=*/nullptr,
                                             EngineFunctionRegistry());
  return expression.Bind(schema, &context);
}

}  // namespace sluice::compute
