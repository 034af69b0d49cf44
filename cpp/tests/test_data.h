#pragma once

// Shared fixtures for the C++ tests: temporary directories, tables written as JSON rows,
// and order-insensitive table comparison.

#include <arrow/table.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#define ASSERT_OK(expr)                                       \
  do {                                                        \
    auto _st = (expr);                                        \
    ASSERT_TRUE(_st.ok()) << #expr << ": " << _st.ToString(); \
  } while (0)

#define SLUICE_CONCAT_INNER(a, b) a##b
#define SLUICE_CONCAT(a, b) SLUICE_CONCAT_INNER(a, b)
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr)                                       \
  auto SLUICE_CONCAT(_res_, __LINE__) = (rexpr);                               \
  ASSERT_TRUE(SLUICE_CONCAT(_res_, __LINE__).ok())                             \
      << #rexpr << ": " << SLUICE_CONCAT(_res_, __LINE__).status().ToString(); \
  lhs = std::move(SLUICE_CONCAT(_res_, __LINE__)).ValueUnsafe()

namespace sluice::testing {

/// A fresh directory removed with everything in it when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::string Join(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// A table from a JSON array of row objects, e.g. R"([{"a": 1, "b": "x"}])".
std::shared_ptr<arrow::Table> TableFromJson(const std::shared_ptr<arrow::Schema>& schema,
                                            const std::string& rows);

/// Sorts by every column, so tables can be compared regardless of row order.
std::shared_ptr<arrow::Table> SortedByAllColumns(const std::shared_ptr<arrow::Table>& table);

/// Writes `contents` to `path`, creating parent directories.
void WriteFile(const std::string& path, const std::string& contents);

}  // namespace sluice::testing

/// Compares tables by schema and content, ignoring chunking and row order.
#define ASSERT_TABLES_EQUAL_UNORDERED(expected, actual)             \
  do {                                                              \
    auto _e = ::sluice::testing::SortedByAllColumns(expected);      \
    auto _a = ::sluice::testing::SortedByAllColumns(actual);        \
    ASSERT_TRUE(_e->Equals(*_a)) << "expected:\n"                   \
                                 << _e->ToString() << "\nactual:\n" \
                                 << _a->ToString();                 \
  } while (0)
