#pragma once

#include <arrow/compute/registry.h>

namespace sluice::compute {

/// The function registry Sluice evaluates expressions with: Arrow's own registry as the
/// parent, with some functions replaced by faster kernels of the same name and meaning
/// (see substring_search.h). Expressions keep Arrow's function names, so plans, explain()
/// and Parquet pushdown are unchanged; only evaluation inside Sluice picks these kernels.
/// pyarrow in the same process keeps Arrow's registry untouched.
arrow::compute::FunctionRegistry* EngineFunctionRegistry();

}  // namespace sluice::compute
