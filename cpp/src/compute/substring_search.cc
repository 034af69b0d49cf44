#include "compute/substring_search.h"

#include <arrow/array/data.h>
#include <arrow/array/util.h>
#include <arrow/compute/api_scalar.h>
#include <arrow/compute/exec.h>
#include <arrow/compute/kernel.h>
#include <arrow/compute/registry.h>
#include <arrow/util/bit_util.h>
#include <arrow/util/bitmap_ops.h>

#include <algorithm>
#include <cstring>
#include <string_view>

namespace sluice::compute {

namespace cp = arrow::compute;

namespace {

struct MatchSubstringState : cp::KernelState {
  explicit MatchSubstringState(cp::MatchSubstringOptions options) : options(std::move(options)) {}
  cp::MatchSubstringOptions options;
};

arrow::Result<std::unique_ptr<cp::KernelState>> InitMatchSubstring(cp::KernelContext*,
                                                                   const cp::KernelInitArgs& args) {
  const auto* options = static_cast<const cp::MatchSubstringOptions*>(args.options);
  if (options == nullptr) {
    return arrow::Status::Invalid("match_substring needs MatchSubstringOptions (the pattern)");
  }
  return std::make_unique<MatchSubstringState>(*options);
}

/// Sets bit `out_offset + row` of `out_bits` for every row whose value contains `pattern`.
/// The bits start cleared. Null rows may get a bit; the executor masks them with validity.
template <typename OffsetType>
void SearchValueBuffer(const arrow::ArraySpan& input, std::string_view pattern, uint8_t* out_bits,
                       int64_t out_offset) {
  const int64_t rows = input.length;
  if (rows == 0) return;  // an empty array may come without an offsets buffer
  const OffsetType* offsets = input.GetValues<OffsetType>(1);
  const char* bytes = reinterpret_cast<const char*>(input.buffers[2].data);
  const auto length = static_cast<int64_t>(pattern.size());
  if (length == 0) {  // every value contains the empty string
    arrow::bit_util::SetBitsTo(out_bits, out_offset, rows, true);
    return;
  }
  const int64_t end = offsets[rows];
  int64_t row = 0;
  int64_t position = offsets[0];
  while (row < rows && end - position >= length) {
    const void* hit = memmem(bytes + position, static_cast<size_t>(end - position), pattern.data(),
                             static_cast<size_t>(length));
    if (hit == nullptr) break;
    const int64_t at = static_cast<const char*>(hit) - bytes;
    // The value holding byte `at`: the last row whose start is <= at (empty rows are skipped
    // because their start equals the next row's).
    row = (std::upper_bound(offsets + row + 1, offsets + rows + 1, static_cast<OffsetType>(at)) -
           offsets) -
          1;
    if (at + length <= offsets[row + 1]) {
      arrow::bit_util::SetBit(out_bits, out_offset + row);
      position = offsets[row + 1];  // one match per value is enough
      ++row;
    } else {
      position = at + 1;  // the hit straddles two values
    }
  }
}

/// ignore_case and anything unusual: Arrow's own kernel, from Arrow's registry (this
/// function replaces "match_substring" in Sluice's registry, so looking the name up there
/// would come back here).
arrow::Status ExecWithArrowKernel(cp::KernelContext* ctx, const cp::ExecSpan& batch,
                                  const cp::MatchSubstringOptions& options, cp::ExecResult* out) {
  cp::ExecContext arrow_context(ctx->memory_pool(), /*executor=*/nullptr,
                                cp::GetFunctionRegistry());
  arrow::Datum input;
  if (batch[0].is_array()) {
    input = batch[0].array.ToArrayData();
  } else {
    ARROW_ASSIGN_OR_RAISE(
        input, arrow::MakeArrayFromScalar(*batch[0].scalar, batch.length, ctx->memory_pool()));
  }
  ARROW_ASSIGN_OR_RAISE(arrow::Datum result,
                        cp::CallFunction("match_substring", {input}, &options, &arrow_context));
  const arrow::ArrayData& matched = *result.array();
  arrow::ArraySpan* target = out->array_span_mutable();
  arrow::internal::CopyBitmap(matched.buffers[1]->data(), matched.offset, matched.length,
                              target->buffers[1].data, target->offset);
  return arrow::Status::OK();
}

template <typename OffsetType>
arrow::Status ExecMatchSubstring(cp::KernelContext* ctx, const cp::ExecSpan& batch,
                                 cp::ExecResult* out) {
  const auto& options = static_cast<const MatchSubstringState*>(ctx->state())->options;
  if (options.ignore_case || !batch[0].is_array()) {
    return ExecWithArrowKernel(ctx, batch, options, out);
  }
  arrow::ArraySpan* target = out->array_span_mutable();
  arrow::bit_util::SetBitsTo(target->buffers[1].data, target->offset, target->length, false);
  SearchValueBuffer<OffsetType>(batch[0].array, options.pattern, target->buffers[1].data,
                                target->offset);
  return arrow::Status::OK();
}

const cp::FunctionDoc kMatchSubstringDoc{
    "Match strings against a literal pattern",
    "For each string in `strings`, emit true iff it contains the literal pattern given in\n"
    "MatchSubstringOptions. Null inputs emit null. (Sluice's kernel: one memmem pass over\n"
    "the value buffer; ignore_case uses Arrow's.)",
    {"strings"},
    "MatchSubstringOptions",
    /*options_required=*/true};

}  // namespace

std::shared_ptr<cp::ScalarFunction> MakeMatchSubstringFunction() {
  auto function = std::make_shared<cp::ScalarFunction>("match_substring", cp::Arity::Unary(),
                                                       kMatchSubstringDoc);
  const auto add = [&](std::shared_ptr<arrow::DataType> type, cp::ArrayKernelExec exec) {
    // Kernel defaults: the executor allocates the output bitmap and intersects validity.
    // AddKernel fails only for a signature of the wrong arity, which these are not.
    ARROW_UNUSED(function->AddKernel(
        cp::ScalarKernel({std::move(type)}, arrow::boolean(), exec, InitMatchSubstring)));
  };
  add(arrow::utf8(), ExecMatchSubstring<int32_t>);
  add(arrow::binary(), ExecMatchSubstring<int32_t>);
  add(arrow::large_utf8(), ExecMatchSubstring<int64_t>);
  add(arrow::large_binary(), ExecMatchSubstring<int64_t>);
  return function;
}

}  // namespace sluice::compute
