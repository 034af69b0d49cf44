#pragma once

// The one place where engine errors become Python exceptions.

#include <arrow/result.h>
#include <arrow/status.h>
#include <nanobind/nanobind.h>

#include <exception>
#include <memory>
#include <string>

namespace sluice::python {

/// Carries an engine error out of GIL-released code; the registered translator turns it
/// into a Python exception once the GIL is held again.
class StatusError : public std::exception {
 public:
  explicit StatusError(arrow::Status status)
      : status_(std::move(status)), what_(status_.ToString()) {}
  const arrow::Status& status() const { return status_; }
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  arrow::Status status_;
  std::string what_;
};

/// Throws StatusError unless `status` is OK.
inline void Check(const arrow::Status& status) {
  if (!status.ok()) throw StatusError(status);
}

template <typename T>
T ValueOrThrow(arrow::Result<T> result) {
  if (!result.ok()) throw StatusError(result.status());
  return std::move(result).ValueUnsafe();
}

/// The Python exception a user function raised, kept so the caller sees the original
/// type (ValueError stays ValueError) with Sluice's context added as a note.
class PythonErrorDetail : public arrow::StatusDetail {
 public:
  /// Takes the currently set Python error; requires the GIL.
  static std::shared_ptr<PythonErrorDetail> FetchCurrent();
  ~PythonErrorDetail() override;

  const char* type_id() const override { return "sluice::python::PythonErrorDetail"; }
  std::string ToString() const override { return summary_; }
  /// Re-raises the stored exception with `note` attached; requires the GIL.
  void Restore(const std::string& note) const;

 private:
  PythonErrorDetail() = default;
  PyObject* type_ = nullptr;
  PyObject* value_ = nullptr;
  PyObject* traceback_ = nullptr;
  std::string summary_;
};

/// Registers the translator; `errors_module` is sluice.errors, whose classes are raised.
void RegisterStatusTranslation(nanobind::module_& errors_module);

}  // namespace sluice::python
