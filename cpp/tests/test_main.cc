#include <arrow/compute/initialize.h>
#include <gtest/gtest.h>

int main(int argc, char** argv) {
  // The wheel's libarrow_compute registers its kernels only when asked.
  auto status = arrow::compute::Initialize();
  if (!status.ok()) {
    fprintf(stderr, "arrow::compute::Initialize failed: %s\n", status.ToString().c_str());
    return 1;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
