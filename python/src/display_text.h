#pragma once

// Engine text (error messages, plans, column names) carries bytes from files and file
// names, which need not be UTF-8. nanobind's std::string conversion decodes strictly and
// would raise a bare UnicodeDecodeError instead of the message.

#include <nanobind/nanobind.h>

#include <string_view>

namespace sluice::python {

/// `bytes` as a Python str: invalid UTF-8 shown escaped (b"\xff" reads "\\xff"), NUL bytes
/// kept. Requires the GIL.
inline nanobind::str DisplayText(std::string_view bytes) {
  PyObject* text = PyUnicode_DecodeUTF8(bytes.data(), static_cast<Py_ssize_t>(bytes.size()),
                                        "backslashreplace");
  if (!text) throw nanobind::python_error();
  return nanobind::steal<nanobind::str>(text);
}

}  // namespace sluice::python
