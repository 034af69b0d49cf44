# The engine sources a fuzz build compiles with coverage counters and sanitizers when it
# takes the rest of the engine from a Release build (SLUICE_FUZZ_PREBUILT_ENGINE): the
# code the fuzz targets feed their input to, and memory_budget.cc, which allocates with
# malloc under FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION so that AddressSanitizer sees
# every buffer. Add a file here when a fuzz target starts to exercise it; code left out
# still runs, but gives libFuzzer no coverage to steer by and is not sanitized.
set(SLUICE_FUZZ_INSTRUMENTED_SOURCES
  "${CMAKE_CURRENT_LIST_DIR}/../src/api/predicate_parser.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/catalog/catalog_store.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/compute/engine_functions.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/compute/expression_depth.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/compute/kleene_chains.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/compute/python_modulo.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/compute/substring_search.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/runtime/memory_budget.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/formats/bad_records.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/storage/compression.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/formats/csv/csv_record_screen.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/formats/csv/csv_source.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/formats/csv/csv_value_conversion.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/table/file_listing.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/formats/file_scan_tasks.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/storage/gzip_input_stream.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/formats/json/json_line_screen.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/formats/json/json_source.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/storage/local_tree_walk.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/formats/parquet/parquet_source.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/storage/screened_input_stream.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/table/table_manifest.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/formats/text/text_source.cc"
  "${CMAKE_CURRENT_LIST_DIR}/../src/storage/utf8_text.cc")
