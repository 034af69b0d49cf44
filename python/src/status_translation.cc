#include "status_translation.h"

#include <string>

#include "display_text.h"
#include "sluice/catalog.h"

namespace nb = nanobind;

namespace sluice::python {

namespace {
nb::object* g_errors = nullptr;  // sluice.errors, kept for the life of the process

const char* ExceptionClassFor(arrow::StatusCode code) {
  switch (code) {
    case arrow::StatusCode::IOError:
      return "SluiceIOError";
    case arrow::StatusCode::KeyError:
      return "ColumnNotFoundError";
    case arrow::StatusCode::TypeError:
      return "SluiceTypeError";
    case arrow::StatusCode::Invalid:
    case arrow::StatusCode::IndexError:
    case arrow::StatusCode::SerializationError:
      return "SluiceValueError";
    case arrow::StatusCode::OutOfMemory:
    case arrow::StatusCode::CapacityError:
      return "SluiceMemoryError";
    case arrow::StatusCode::Cancelled:
      return "SluiceCancelled";
    case arrow::StatusCode::NotImplemented:
      return "SluiceNotImplementedError";
    default:
      return "SluiceError";
  }
}
}  // namespace

std::shared_ptr<PythonErrorDetail> PythonErrorDetail::FetchCurrent() {
  std::shared_ptr<PythonErrorDetail> detail(new PythonErrorDetail());
  PyErr_Fetch(&detail->type_, &detail->value_, &detail->traceback_);
  PyErr_NormalizeException(&detail->type_, &detail->value_, &detail->traceback_);
  if (detail->traceback_ && detail->value_) {
    PyException_SetTraceback(detail->value_, detail->traceback_);
  }
  std::string type_name =
      detail->type_ ? reinterpret_cast<PyTypeObject*>(detail->type_)->tp_name : "Exception";
  std::string message;
  if (detail->value_) {
    PyObject* text = PyObject_Str(detail->value_);
    if (text) {
      const char* utf8 = PyUnicode_AsUTF8(text);
      if (utf8) message = utf8;
      Py_DECREF(text);
    }
    PyErr_Clear();
  }
  detail->summary_ = type_name + ": " + message;
  return detail;
}

PythonErrorDetail::~PythonErrorDetail() {
  // Statuses travel across worker threads and may die on one without the GIL.
  if (!Py_IsInitialized()) return;
  PyGILState_STATE state = PyGILState_Ensure();
  Py_XDECREF(type_);
  Py_XDECREF(value_);
  Py_XDECREF(traceback_);
  PyGILState_Release(state);
}

void PythonErrorDetail::Restore(const std::string& note) const {
  if (value_) {
    PyObject* text = PyUnicode_DecodeUTF8(note.data(), static_cast<Py_ssize_t>(note.size()),
                                          "backslashreplace");
    if (text) {
      PyObject* result = PyObject_CallMethod(value_, "add_note", "O", text);
      Py_XDECREF(result);
      Py_DECREF(text);
    }
    PyErr_Clear();
  }
  Py_XINCREF(type_);
  Py_XINCREF(value_);
  Py_XINCREF(traceback_);
  PyErr_Restore(type_, value_, traceback_);
}

void RegisterStatusTranslation(nb::module_& errors_module) {
  g_errors = new nb::object(errors_module);
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const StatusError& e) {
      const arrow::Status& status = e.status();
      if (auto detail = std::dynamic_pointer_cast<PythonErrorDetail>(status.detail())) {
        detail->Restore("raised inside sluice: " + status.message());
        return;
      }
      const bool not_in_catalog = status.detail() != nullptr &&
                                  std::string(status.detail()->type_id()) == kNotInCatalogDetail;
      nb::object cls =
          g_errors->attr(not_in_catalog ? "NotInCatalogError" : ExceptionClassFor(status.code()));
      // Not PyErr_SetString: it stops at a NUL byte and fails on bytes that are not UTF-8.
      PyErr_SetObject(cls.ptr(), DisplayText(status.message()).ptr());
    }
  });
}

}  // namespace sluice::python
