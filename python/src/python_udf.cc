#include "python_udf.h"

#include "arrow_capsules.h"
#include "status_translation.h"

namespace nb = nanobind;

namespace sluice::python {

namespace {

/// A Python object reference that engine threads may copy and drop without the GIL:
/// copies share one holder, and the holder takes the GIL to release the object.
class SharedPyObject {
 public:
  explicit SharedPyObject(nb::object object)
      : holder_(std::make_shared<Holder>(object.release().ptr())) {}
  PyObject* get() const { return holder_->object; }

 private:
  struct Holder {
    explicit Holder(PyObject* o) : object(o) {}
    ~Holder() {
      if (!Py_IsInitialized()) return;
      PyGILState_STATE state = PyGILState_Ensure();
      Py_XDECREF(object);
      PyGILState_Release(state);
    }
    PyObject* object;
  };
  std::shared_ptr<Holder> holder_;
};

arrow::Status StatusFromPythonError(nb::python_error& error) {
  error.restore();
  auto detail = PythonErrorDetail::FetchCurrent();
  return arrow::Status(arrow::StatusCode::UnknownError, detail->ToString(), detail);
}

}  // namespace

BatchFunctionFactory MakePythonBatchFunctionFactory(nb::object factory) {
  SharedPyObject shared_factory(std::move(factory));
  return [shared_factory]() -> arrow::Result<BatchFunction> {
    nb::gil_scoped_acquire gil;
    try {
      nb::object fn = nb::borrow(shared_factory.get())();
      SharedPyObject shared_fn(std::move(fn));
      return BatchFunction([shared_fn](const std::shared_ptr<arrow::RecordBatch>& batch)
                               -> arrow::Result<std::shared_ptr<arrow::RecordBatch>> {
        nb::gil_scoped_acquire gil;
        try {
          nb::tuple input = ExportBatchCapsules(*batch);
          nb::object output = nb::borrow(shared_fn.get())(input[0], input[1]);
          nb::tuple pair = nb::cast<nb::tuple>(output);
          if (pair.size() != 2) {
            return arrow::Status::TypeError(
                "the batch function must return a "
                "(schema, array) capsule pair");
          }
          return ImportBatchCapsules(pair[0], pair[1]);
        } catch (nb::python_error& e) {
          return StatusFromPythonError(e);
        } catch (const StatusError& e) {
          return e.status();
        } catch (const std::exception& e) {
          return arrow::Status::UnknownError(e.what());
        }
      });
    } catch (nb::python_error& e) {
      return StatusFromPythonError(e);
    } catch (const std::exception& e) {
      return arrow::Status::UnknownError(e.what());
    }
  };
}

namespace {
constexpr char kCloudpickleKind[] = "python-cloudpickle";
}  // namespace

std::function<arrow::Result<SerializedFunction>()> MakePythonFunctionSerializer(
    nb::object factory) {
  SharedPyObject shared_factory(std::move(factory));
  return [shared_factory]() -> arrow::Result<SerializedFunction> {
    nb::gil_scoped_acquire gil;
    try {
      // cloudpickle writes functions, closures and lambdas by value, so the process that
      // reads them needs only the modules they import, not the script that defined them.
      nb::object dumps = nb::module_::import_("cloudpickle").attr("dumps");
      nb::bytes bytes(dumps(nb::handle(shared_factory.get())));
      return SerializedFunction{kCloudpickleKind, std::string(bytes.c_str(), bytes.size())};
    } catch (nb::python_error& error) {
      return StatusFromPythonError(error);
    }
  };
}

void RegisterPythonFunctionDeserializer() {
  RegisterFunctionDeserializer(
      kCloudpickleKind, [](const std::string& payload) -> arrow::Result<DeserializedFunction> {
        nb::gil_scoped_acquire gil;
        try {
          nb::object loads = nb::module_::import_("pickle").attr("loads");
          nb::object factory = loads(nb::bytes(payload.data(), payload.size()));
          return DeserializedFunction{MakePythonBatchFunctionFactory(factory),
                                      MakePythonFunctionSerializer(factory)};
        } catch (nb::python_error& error) {
          return StatusFromPythonError(error);
        }
      });
}

}  // namespace sluice::python
