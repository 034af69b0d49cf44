#include "test_data.h"

#include <arrow/compute/api_vector.h>
#include <arrow/datum.h>
#include <arrow/json/from_string.h>

#include <fstream>
#include <random>

namespace sluice::testing {

TempDir::TempDir() {
  std::random_device rd;
  auto base = std::filesystem::temp_directory_path();
  path_ = base / ("sluice-test-" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::shared_ptr<arrow::Table> TableFromJson(const std::shared_ptr<arrow::Schema>& schema,
                                            const std::string& rows) {
  auto array = arrow::json::ArrayFromJSONString(arrow::struct_(schema->fields()), rows);
  EXPECT_TRUE(array.ok()) << array.status().ToString();
  auto batch = arrow::RecordBatch::FromStructArray(*array);
  EXPECT_TRUE(batch.ok()) << batch.status().ToString();
  auto table =
      arrow::Table::FromRecordBatches(schema, {(*batch)->ReplaceSchema(schema).ValueOrDie()});
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  return *table;
}

std::shared_ptr<arrow::Table> SortedByAllColumns(const std::shared_ptr<arrow::Table>& table) {
  std::vector<arrow::compute::SortKey> keys;
  for (const auto& f : table->schema()->fields()) keys.emplace_back(arrow::FieldRef(f->name()));
  auto combined = table->CombineChunks().ValueOrDie();
  if (keys.empty() || combined->num_rows() == 0) return combined;
  auto indices =
      arrow::compute::SortIndices(arrow::Datum(combined), arrow::compute::SortOptions(keys));
  EXPECT_TRUE(indices.ok()) << indices.status().ToString();
  auto sorted = arrow::compute::Take(combined, *indices);
  EXPECT_TRUE(sorted.ok()) << sorted.status().ToString();
  return sorted->table()->CombineChunks().ValueOrDie();
}

void WriteFile(const std::string& path, const std::string& contents) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << contents;
}

}  // namespace sluice::testing
