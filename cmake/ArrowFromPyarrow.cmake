# Imported targets for Arrow C++ taken from the pinned pyarrow wheel.
#
# The wheel ships headers and versioned shared libraries but no ArrowConfig.cmake, so
# we ask the interpreter where they are and declare one IMPORTED target per library.
# Linking by full path records each library's SONAME (libarrow.so.2500), which is what
# the wheel provides at run time.

if(NOT Python_EXECUTABLE)
  find_package(Python 3.10 REQUIRED COMPONENTS Interpreter)
endif()

execute_process(
  COMMAND "${Python_EXECUTABLE}" -c
          "import pyarrow, os; print(pyarrow.get_include()); print(os.path.dirname(pyarrow.__file__)); print(pyarrow.__version__)"
  OUTPUT_VARIABLE _pa_out
  RESULT_VARIABLE _pa_rc
  OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _pa_rc EQUAL 0)
  message(FATAL_ERROR "pyarrow is not importable from ${Python_EXECUTABLE}; run `make build`.")
endif()
string(REPLACE "\n" ";" _pa_lines "${_pa_out}")
list(GET _pa_lines 0 PYARROW_INCLUDE_DIR)
list(GET _pa_lines 1 PYARROW_LIB_DIR)
list(GET _pa_lines 2 PYARROW_VERSION)
message(STATUS "Arrow C++ from pyarrow ${PYARROW_VERSION}: ${PYARROW_LIB_DIR}")

# pyarrow 25.0.1 -> SONAME suffix 2500
string(REGEX MATCH "^([0-9]+)\\.([0-9]+)" _ "${PYARROW_VERSION}")
math(EXPR ARROW_SO_VERSION "${CMAKE_MATCH_1} * 100 + ${CMAKE_MATCH_2}")

function(sluice_import_arrow_library target file)
  set(_path "${PYARROW_LIB_DIR}/${file}.so.${ARROW_SO_VERSION}")
  if(NOT EXISTS "${_path}")
    message(FATAL_ERROR "missing ${_path} in the pyarrow wheel")
  endif()
  add_library(${target} SHARED IMPORTED GLOBAL)
  set_target_properties(${target} PROPERTIES
    IMPORTED_LOCATION "${_path}"
    IMPORTED_NO_SONAME FALSE
    INTERFACE_INCLUDE_DIRECTORIES "${PYARROW_INCLUDE_DIR}")
endfunction()

sluice_import_arrow_library(Arrow::arrow libarrow)
sluice_import_arrow_library(Arrow::compute libarrow_compute)
sluice_import_arrow_library(Arrow::acero libarrow_acero)
sluice_import_arrow_library(Arrow::dataset libarrow_dataset)
sluice_import_arrow_library(Arrow::parquet libparquet)
