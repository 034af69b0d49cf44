#pragma once

#include <arrow/type_fwd.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "sluice/expression.h"

namespace sluice {

/// Options for Dataset::ReadParquet.
struct ReadParquetOptions {
  /// Columns to read (hive partition columns included); empty means all.
  std::vector<std::string> columns;
  /// Rows to keep; pushed into row-group statistics and partition pruning.
  std::optional<Expression> filter;
  /// Turn `key=value` directories into columns.
  bool hive_partitioning = true;
  /// Follow symbolic links that leave the directory read (else such a link is an error
  /// naming it); links inside it are always followed, loops entered once (ListOptions).
  bool follow_symlinks = false;
};

/// What the CSV and JSON readers do with a bad record: a row with the wrong number of
/// fields, a value that does not convert to its column's type, a line that is not one
/// JSON object, invalid UTF-8 (with EncodingErrors::kStrict), JSON nested too deeply.
enum class BadLineAction {
  kError,    ///< fail the read with an error naming the file and line (Spark's FAILFAST)
  kSkip,     ///< drop the record (DROPMALFORMED); counted in ExecutionStats
  kCollect,  ///< drop it and keep it in the execution's rejects (Dataset::LastRejects)
};

/// Parses "error", "skip" or "collect".
arrow::Result<BadLineAction> ParseBadLineAction(const std::string& text);

/// What the CSV, JSON and text readers do with bytes that are not UTF-8.
enum class EncodingErrors {
  kStrict,   ///< the record is bad (see BadLineAction)
  kReplace,  ///< each invalid sequence reads as U+FFFD, as Python's errors="replace"
};

/// Parses "strict" or "replace".
arrow::Result<EncodingErrors> ParseEncodingErrors(const std::string& text);

/// How deep JSON values may nest (objects and arrays), as Jackson's default: deeper
/// input is refused before Arrow's recursive parser sees it.
inline constexpr int kMaxJsonNestingDepth = 1000;

/// Options for Dataset::ReadCsv. Compression (.gz, .zst, .bz2, .lz4) follows the file name.
struct ReadCsvOptions {
  char delimiter = ',';
  char quote_char = '"';
  bool quoting = true;
  char escape_char = '\\';
  bool escaping = false;
  /// First line holds the column names. Without it, names come from `column_names` or
  /// are generated as f0, f1, ...
  bool header = true;
  std::vector<std::string> column_names;
  /// Lines to skip before the header.
  int64_t skip_rows = 0;
  /// Fixed types for some columns; the rest are inferred from the first file.
  std::map<std::string, std::shared_ptr<arrow::DataType>> column_types;
  /// Strings read as null. Empty: Arrow's defaults ("", "NA", "NULL", "null", ...).
  std::vector<std::string> null_values;
  /// Null values apply to string columns too, so an empty field (quoted or not) reads as
  /// null whatever the column's type, as in DuckDB and Spark. False keeps them as strings.
  bool empty_as_null = true;
  /// Add a "path" column with the source file.
  bool include_paths = false;
  /// Allow line breaks inside quoted values (slower: disables parallel block parsing).
  bool newlines_in_values = false;
  /// Follow symbolic links that leave the directory read (else such a link is an error
  /// naming it); links inside it are always followed, loops entered once (ListOptions).
  bool follow_symlinks = false;
  /// Bytes parsed at a time; a row must fit in one block. 0: up to 4 MiB (less under a
  /// small memory budget).
  int32_t block_size = 0;
  EncodingErrors encoding_errors = EncodingErrors::kStrict;
  BadLineAction on_bad_lines = BadLineAction::kError;
};

/// Options for Dataset::ReadJson (JSON lines: one object per line).
struct ReadJsonOptions {
  /// Fixed schema; unset means inferred from the first file.
  std::shared_ptr<arrow::Schema> schema;
  bool include_paths = false;
  /// Follow symbolic links that leave the directory read (else such a link is an error
  /// naming it); links inside it are always followed, loops entered once (ListOptions).
  bool follow_symlinks = false;
  /// Bytes parsed at a time; a line must fit in one block. 0: up to 8 MiB (less under a
  /// small memory budget).
  int32_t block_size = 0;
  EncodingErrors encoding_errors = EncodingErrors::kStrict;
  /// With kSkip or kCollect each line is one record (JSON lines); with kError an object
  /// may span lines within a block, as Arrow allows.
  BadLineAction on_bad_lines = BadLineAction::kError;
};

/// Options for Dataset::ReadText.
struct ReadTextOptions {
  /// Add a "path" column with the source file.
  bool include_paths = false;
  /// Skip lines that are empty after removing the line break.
  bool drop_empty_lines = false;
  /// Follow symbolic links that leave the directory read (else such a link is an error
  /// naming it); links inside it are always followed, loops entered once (ListOptions).
  bool follow_symlinks = false;
  EncodingErrors encoding_errors = EncodingErrors::kStrict;
};

/// Read options of any format (Dataset::Read); each format's reader takes its own
/// alternative (DefaultReadOptions in sluice/formats.h gives it).
using ReadOptions = std::variant<ReadParquetOptions, ReadCsvOptions, ReadJsonOptions, ReadTextOptions>;

/// Which rows a join keeps (Dataset::Join). Null keys never match, as in SQL.
enum class JoinType {
  kInner,  ///< pairs of rows whose keys are equal
  kLeft,   ///< kInner, plus every left row without a match (right columns null)
  kRight,  ///< kInner, plus every right row without a match (left columns null)
  kOuter,  ///< kInner, plus the rows of both sides without a match
  kSemi,   ///< each left row that has a match, once; left columns only
  kAnti,   ///< each left row that has no match; left columns only
};

/// Options for Dataset::Join.
struct JoinOptions {
  /// Key columns of the left and of the right input, compared pairwise: a left row and a
  /// right row match when left_keys[i] == right_keys[i] for every i. Same count, at least one.
  std::vector<std::string> left_keys;
  std::vector<std::string> right_keys;
  JoinType how = JoinType::kInner;
  /// Appended to the name of a right column that a left column already has.
  std::string right_suffix = "_right";

  /// Joins on columns named `keys` on both sides (SQL USING): each key appears once in
  /// the output.
  static JoinOptions On(std::vector<std::string> keys, JoinType how = JoinType::kInner) {
    JoinOptions options;
    options.left_keys = keys;
    options.right_keys = std::move(keys);
    options.how = how;
    return options;
  }
};

/// Parses a join type, case-insensitively: inner; left or left_outer; right or right_outer;
/// outer, full or full_outer; semi or left_semi; anti or left_anti.
arrow::Result<JoinType> ParseJoinType(const std::string& text);

/// "inner", "left", "right", "outer", "semi" or "anti".
std::string JoinTypeName(JoinType how);

/// What a write does when the target already holds data.
enum class WriteMode {
  kError,                ///< refuse a non-empty target
  kAppend,               ///< add new files beside the existing ones
  kOverwrite,            ///< replace everything under the target
  kOverwritePartitions,  ///< replace only the partitions this write produces
};

/// Options shared by every writer.
struct WriteOptions {
  WriteMode mode = WriteMode::kError;
  /// Hive-style `key=value/` directories, in this order.
  std::vector<std::string> partition_cols;
  /// Start a new file after this many rows.
  std::optional<int64_t> max_rows_per_file;
  /// Parquet: snappy (default), zstd, gzip, lz4, brotli, none.
  /// CSV and JSON: none (default), gzip, zstd, bz2.
  std::string compression;
  /// CSV only.
  char delimiter = ',';
  bool header = true;
  /// Catalog table ("database.table") to register the write in, in the same commit. A
  /// missing table is created at the write's path (or, with an empty path, under its
  /// database's location); an existing one is written at its location, takes new
  /// nullable columns, and refuses other partition columns or changed column types. Unset:
  /// no catalog; an empty name is an error.
  std::optional<std::string> table;
  /// The catalog file for `table`; empty: EngineConfig::catalog_path.
  std::string catalog_path;
  /// Overwrites (kOverwrite, and kOverwritePartitions within the partitions written)
  /// refuse a target holding files Sluice did not write (in no manifest, not named like
  /// its data files) or symbolic links, naming them; with this they delete those files
  /// and remove the links (never what a link points to). docs/commit-protocol.md.
  bool replace_foreign_files = false;
};

/// What a finished write produced.
struct WriteResult {
  std::vector<std::string> files;  ///< published files, sorted
  int64_t rows = 0;
  int64_t bytes = 0;
};

/// Parses "error", "append", "overwrite" or "overwrite_partitions".
arrow::Result<WriteMode> ParseWriteMode(const std::string& text);
/// The name ParseWriteMode reads: "error", "append", "overwrite", "overwrite_partitions".
const char* WriteModeName(WriteMode mode);

}  // namespace sluice
