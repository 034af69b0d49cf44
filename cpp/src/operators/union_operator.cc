#include "operators/union_operator.h"

namespace sluice::operators {

namespace {
class UnionTaskSource : public exec::TaskSource {
 public:
  explicit UnionTaskSource(std::vector<std::unique_ptr<exec::TaskSource>> inputs)
      : inputs_(std::move(inputs)) {}
  arrow::Result<std::optional<exec::ScanTask>> NextTask() override {
    while (current_ < inputs_.size()) {
      ARROW_ASSIGN_OR_RAISE(auto task, inputs_[current_]->NextTask());
      if (task) return task;
      ++current_;
    }
    return std::nullopt;
  }

 private:
  std::vector<std::unique_ptr<exec::TaskSource>> inputs_;
  size_t current_ = 0;
};
}  // namespace

arrow::Result<std::unique_ptr<exec::TaskSource>> MakeUnionTaskSource(
    std::vector<std::unique_ptr<exec::TaskSource>> inputs) {
  return std::make_unique<UnionTaskSource>(std::move(inputs));
}

}  // namespace sluice::operators
