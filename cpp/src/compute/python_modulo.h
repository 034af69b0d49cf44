#pragma once

#include <arrow/compute/function.h>

#include <memory>

namespace sluice::compute {

/// Name of the function that computes Python's `a % b` on float64.
inline constexpr const char* kPythonModuloFunction = "python_modulo";

/// "python_modulo"(float64, float64) -> float64: the remainder with the sign of the
/// divisor, as Python and pandas compute it (`-7 % 3 == 2`, `7 % -3 == -2`,
/// `-5 % inf == inf`, `x % 0` is NaN as in pandas). Null in, null out.
///
/// Arrow has no modulo kernel. Written with Arrow's functions, `a - floor(a / b) * b` uses
/// each operand twice, so a chain of n `%` grows to 2^n nodes: a 54-byte filter took
/// 40 s to evaluate. One call per `%` keeps the expression as large as the text.
std::shared_ptr<arrow::compute::ScalarFunction> MakePythonModuloFunction();

}  // namespace sluice::compute
