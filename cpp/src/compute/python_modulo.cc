#include "compute/python_modulo.h"

#include <arrow/array/data.h>
#include <arrow/compute/exec.h>
#include <arrow/compute/kernel.h>
#include <arrow/scalar.h>

#include <cmath>

namespace sluice::compute {

namespace cp = arrow::compute;

namespace {

const cp::FunctionDoc kPythonModuloDoc{
    "Remainder of a division with the sign of the divisor, as Python's % operator",
    "Computes `a - floor(a / b) * b` without rounding error (fmod corrected for sign),\n"
    "as Python and pandas do for floats. Division by zero gives NaN. Nulls give null.",
    {"dividend", "divisor"}};

double PythonModulo(double a, double b) {
  double r = std::fmod(a, b);
  if (r != 0) {
    if ((r < 0) != (b < 0)) r += b;
  } else {
    r = std::copysign(0.0, b);  // Python: 6.0 % -3 == -0.0
  }
  return r;
}

/// Reads operand `i` of row `row`: a scalar stands for every row.
struct Operand {
  explicit Operand(const cp::ExecValue& value)
      : values(value.is_scalar() ? nullptr : value.array.GetValues<double>(1)),
        scalar(value.is_scalar() && value.scalar->is_valid
                   ? static_cast<const arrow::DoubleScalar*>(value.scalar)->value
                   : 0) {}
  double operator[](int64_t row) const { return values != nullptr ? values[row] : scalar; }
  const double* values;
  double scalar;
};

arrow::Status ExecPythonModulo(cp::KernelContext*, const cp::ExecSpan& batch,
                               cp::ExecResult* out) {
  const Operand dividend(batch[0]);
  const Operand divisor(batch[1]);
  double* result = out->array_span_mutable()->GetValues<double>(1);
  // Null rows are computed too (on whatever their slots hold); the executor's validity
  // bitmap hides them.
  for (int64_t row = 0; row < batch.length; ++row) {
    result[row] = PythonModulo(dividend[row], divisor[row]);
  }
  return arrow::Status::OK();
}

}  // namespace

std::shared_ptr<cp::ScalarFunction> MakePythonModuloFunction() {
  auto function = std::make_shared<cp::ScalarFunction>(kPythonModuloFunction,
                                                       cp::Arity::Binary(), kPythonModuloDoc);
  // Only fails for a signature of the wrong arity, which this is not.
  ARROW_UNUSED(function->AddKernel({arrow::float64(), arrow::float64()}, arrow::float64(),
                                   ExecPythonModulo));
  return function;
}

}  // namespace sluice::compute
