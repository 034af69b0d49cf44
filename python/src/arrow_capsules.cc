#include "arrow_capsules.h"

#include <arrow/c/abi.h>
#include <arrow/c/bridge.h>
#include <arrow/util/key_value_metadata.h>
#include <arrow/util/utf8.h>

#include "status_translation.h"

namespace nb = nanobind;

namespace sluice::python {

namespace {

void ReleaseSchemaCapsule(void* ptr) noexcept {
  auto* schema = static_cast<ArrowSchema*>(ptr);
  if (schema->release) schema->release(schema);
  delete schema;
}
void ReleaseArrayCapsule(void* ptr) noexcept {
  auto* array = static_cast<ArrowArray*>(ptr);
  if (array->release) array->release(array);
  delete array;
}
void ReleaseStreamCapsule(void* ptr) noexcept {
  auto* stream = static_cast<ArrowArrayStream*>(ptr);
  if (stream->release) {
    // Releasing joins engine workers, which may be waiting for the GIL.
    if (Py_IsInitialized() && PyGILState_Check()) {
      nb::gil_scoped_release release;
      stream->release(stream);
    } else {
      stream->release(stream);
    }
  }
  delete stream;
}

// The C Data Interface passes a field's name as a NUL-terminated string, so a column
// "a\0b" (Parquet and CSV allow it) would arrive as "a"; and pyarrow cannot show a name
// that is not UTF-8 (a UnicodeDecodeError on every access). Such a name also travels whole
// in the field's metadata under this key; importers on both sides (here and
// sluice/_field_names.py) put it back, Python with bytes that are not UTF-8 escaped.
constexpr char kFullNameKey[] = "sluice.full_name";

/// `schema` with the full name of every top-level field whose name holds a NUL byte or is
/// not UTF-8 added to that field's metadata; `schema` itself when there is none.
std::shared_ptr<arrow::Schema> WithFullNames(const std::shared_ptr<arrow::Schema>& schema) {
  arrow::util::InitializeUTF8();  // ValidateUTF8's tables; once per process
  arrow::FieldVector fields = schema->fields();
  bool changed = false;
  for (auto& field : fields) {
    if (field->name().find('\0') == std::string::npos &&
        arrow::util::ValidateUTF8(field->name())) {
      continue;
    }
    auto metadata = field->metadata() ? field->metadata()->Copy()
                                      : std::make_shared<arrow::KeyValueMetadata>();
    metadata->Append(kFullNameKey, field->name());
    field = field->WithMetadata(std::move(metadata));
    changed = true;
  }
  return changed ? arrow::schema(std::move(fields), schema->metadata()) : schema;
}

/// `schema` with the names WithFullNames carried put back (and the key dropped).
std::shared_ptr<arrow::Schema> RestoreFullNames(const std::shared_ptr<arrow::Schema>& schema) {
  arrow::FieldVector fields = schema->fields();
  bool changed = false;
  for (auto& field : fields) {
    const auto& metadata = field->metadata();
    const int index = metadata ? metadata->FindKey(kFullNameKey) : -1;
    if (index < 0) continue;
    auto rest = metadata->Copy();
    (void)rest->Delete(index);
    field = field->WithName(metadata->value(index))
                ->WithMetadata(rest->size() > 0 ? std::move(rest) : nullptr);
    changed = true;
  }
  return changed ? arrow::schema(std::move(fields), schema->metadata()) : schema;
}

std::shared_ptr<arrow::RecordBatch> WithSchema(std::shared_ptr<arrow::RecordBatch> batch,
                                               std::shared_ptr<arrow::Schema> schema) {
  if (schema == batch->schema()) return batch;
  return arrow::RecordBatch::Make(std::move(schema), batch->num_rows(), batch->columns());
}

template <typename T>
T* CapsulePointer(nb::handle capsule, const char* name) {
  void* ptr = PyCapsule_GetPointer(capsule.ptr(), name);
  if (!ptr) throw nb::python_error();
  return static_cast<T*>(ptr);
}

/// Drops the GIL around reads and the final release, so workers running Python user
/// functions can take it while the consumer waits.
class GilReleasingReader : public arrow::RecordBatchReader {
 public:
  explicit GilReleasingReader(std::shared_ptr<arrow::RecordBatchReader> inner)
      : inner_(std::move(inner)), schema_(WithFullNames(inner_->schema())) {}
  ~GilReleasingReader() override {
    if (Py_IsInitialized() && PyGILState_Check()) {
      nb::gil_scoped_release release;
      inner_.reset();
    }
  }
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }
  arrow::Status ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) override {
    if (Py_IsInitialized() && PyGILState_Check()) {
      nb::gil_scoped_release release;
      ARROW_RETURN_NOT_OK(inner_->ReadNext(batch));
    } else {
      ARROW_RETURN_NOT_OK(inner_->ReadNext(batch));
    }
    if (*batch) *batch = WithSchema(std::move(*batch), schema_);
    return arrow::Status::OK();
  }
  arrow::Status Close() override {
    if (Py_IsInitialized() && PyGILState_Check()) {
      nb::gil_scoped_release release;
      return inner_->Close();
    }
    return inner_->Close();
  }

 private:
  std::shared_ptr<arrow::RecordBatchReader> inner_;
  std::shared_ptr<arrow::Schema> schema_;  // the inner one, names made exportable
};

}  // namespace

nb::capsule ExportSchemaCapsule(const arrow::Schema& schema) {
  auto* c_schema = new ArrowSchema();
  arrow::Status st =
      arrow::ExportSchema(*WithFullNames(std::make_shared<arrow::Schema>(schema)), c_schema);
  if (!st.ok()) {
    delete c_schema;
    Check(st);
  }
  return nb::capsule(c_schema, "arrow_schema", ReleaseSchemaCapsule);
}

nb::capsule ExportTypeCapsule(const arrow::DataType& type) {
  auto* c_schema = new ArrowSchema();
  arrow::Status st = arrow::ExportType(type, c_schema);
  if (!st.ok()) {
    delete c_schema;
    Check(st);
  }
  return nb::capsule(c_schema, "arrow_schema", ReleaseSchemaCapsule);
}

nb::tuple ExportBatchCapsules(const arrow::RecordBatch& batch) {
  auto* c_schema = new ArrowSchema();
  auto* c_array = new ArrowArray();
  auto schema = WithFullNames(batch.schema());
  arrow::Status st =
      schema == batch.schema()
          ? arrow::ExportRecordBatch(batch, c_array, c_schema)
          : arrow::ExportRecordBatch(
                *arrow::RecordBatch::Make(schema, batch.num_rows(), batch.columns()), c_array,
                c_schema);
  if (!st.ok()) {
    delete c_schema;
    delete c_array;
    Check(st);
  }
  nb::capsule schema_capsule(c_schema, "arrow_schema", ReleaseSchemaCapsule);
  nb::capsule array_capsule(c_array, "arrow_array", ReleaseArrayCapsule);
  return nb::make_tuple(schema_capsule, array_capsule);
}

nb::capsule ExportStreamCapsule(std::shared_ptr<arrow::RecordBatchReader> reader) {
  auto* c_stream = new ArrowArrayStream();
  arrow::Status st = arrow::ExportRecordBatchReader(
      std::make_shared<GilReleasingReader>(std::move(reader)), c_stream);
  if (!st.ok()) {
    delete c_stream;
    Check(st);
  }
  return nb::capsule(c_stream, "arrow_array_stream", ReleaseStreamCapsule);
}

std::shared_ptr<arrow::Schema> ImportSchemaCapsule(nb::handle capsule) {
  return RestoreFullNames(
      ValueOrThrow(arrow::ImportSchema(CapsulePointer<ArrowSchema>(capsule, "arrow_schema"))));
}

std::shared_ptr<arrow::DataType> ImportTypeCapsule(nb::handle capsule) {
  return ValueOrThrow(arrow::ImportType(CapsulePointer<ArrowSchema>(capsule, "arrow_schema")));
}

std::shared_ptr<arrow::Array> ImportArrayCapsules(nb::handle schema, nb::handle array) {
  return ValueOrThrow(arrow::ImportArray(CapsulePointer<ArrowArray>(array, "arrow_array"),
                                         CapsulePointer<ArrowSchema>(schema, "arrow_schema")));
}

std::shared_ptr<arrow::RecordBatch> ImportBatchCapsules(nb::handle schema, nb::handle array) {
  auto batch = ValueOrThrow(
      arrow::ImportRecordBatch(CapsulePointer<ArrowArray>(array, "arrow_array"),
                               CapsulePointer<ArrowSchema>(schema, "arrow_schema")));
  return WithSchema(batch, RestoreFullNames(batch->schema()));
}

std::shared_ptr<arrow::RecordBatchReader> ImportStreamCapsule(nb::handle capsule) {
  return ValueOrThrow(arrow::ImportRecordBatchReader(
      CapsulePointer<ArrowArrayStream>(capsule, "arrow_array_stream")));
}

}  // namespace sluice::python
