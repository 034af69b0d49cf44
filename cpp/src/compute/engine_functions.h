#pragma once

#include <arrow/compute/expression.h>
#include <arrow/compute/registry.h>
#include <arrow/result.h>
#include <arrow/type_fwd.h>

namespace sluice::compute {

/// The function registry Sluice evaluates expressions with: Arrow's own registry as the
/// parent, with some functions replaced by faster kernels of the same name and meaning
/// (see substring_search.h), plus functions Arrow lacks (python_modulo.h). pyarrow in the
/// same process keeps Arrow's registry untouched.
arrow::compute::FunctionRegistry* EngineFunctionRegistry();

/// Binds `expression` to `schema`, looking functions up in EngineFunctionRegistry().
/// Every Bind in the engine goes through here or through an ExecContext's compute context
/// (same registry): Arrow's plain Bind(schema) would not find Sluice's own functions.
arrow::Result<arrow::compute::Expression> BindWithEngineFunctions(
    const arrow::compute::Expression& expression, const arrow::Schema& schema);

}  // namespace sluice::compute
