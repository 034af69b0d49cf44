#include "storage/utf8_text.h"

#include <arrow/util/utf8.h>

#include <mutex>

namespace sluice::io {

namespace {

constexpr char kReplacementCharacter[] = "\xEF\xBF\xBD";

/// The length of the valid sequence at the front of `text` (1 to 4), or 0 when it is not
/// valid; then `*invalid_length` is the length of the maximal subpart to replace.
int ValidSequenceLength(std::string_view text, int* invalid_length) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t lead = byte(0);
  *invalid_length = 1;
  if (lead < 0x80) return 1;
  int length;
  uint8_t second_low = 0x80, second_high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_low = 0xA0;   // no overlong forms
    if (lead == 0xED) second_high = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_low = 0x90;   // no overlong forms
    if (lead == 0xF4) second_high = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  for (int i = 1; i < length; ++i) {
    if (static_cast<size_t>(i) >= text.size()) return 0;
    const uint8_t low = i == 1 ? second_low : 0x80;
    const uint8_t high = i == 1 ? second_high : 0xBF;
    if (byte(i) < low || byte(i) > high) return 0;
    *invalid_length = i + 1;
  }
  return length;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  static std::once_flag initialized;
  std::call_once(initialized, arrow::util::InitializeUTF8);
  return arrow::util::ValidateUTF8(reinterpret_cast<const uint8_t*>(text.data()),
                                   static_cast<int64_t>(text.size()));
}

arrow::Status AppendReplacingInvalidUtf8(std::string_view text, arrow::BufferBuilder* out) {
  size_t valid_start = 0;
  size_t i = 0;
  while (i < text.size()) {
    int invalid_length;
    const int length = ValidSequenceLength(text.substr(i), &invalid_length);
    if (length > 0) {
      i += length;
      continue;
    }
    ARROW_RETURN_NOT_OK(out->Append(text.data() + valid_start, i - valid_start));
    ARROW_RETURN_NOT_OK(out->Append(kReplacementCharacter, 3));
    i += invalid_length;
    valid_start = i;
  }
  return out->Append(text.data() + valid_start, text.size() - valid_start);
}

std::string ReplaceInvalidUtf8(std::string_view text) {
  if (IsValidUtf8(text)) return std::string(text);
  arrow::BufferBuilder out;
  if (!AppendReplacingInvalidUtf8(text, &out).ok()) return std::string(text.size(), '?');
  return std::string(reinterpret_cast<const char*>(out.data()), out.length());
}

}  // namespace sluice::io
