#include "formats/json/json_lines_encoder.h"

#include <arrow/array.h>
#include <arrow/compute/api_scalar.h>
#include <arrow/compute/api_vector.h>
#include <arrow/util/decimal.h>
#include <arrow/util/float16.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

namespace sluice::io {

namespace {

// ---- Text primitives. All append to `out`; none allocates beyond growing `out`.

constexpr std::array<bool, 256> MakeNeedsEscapeTable() {
  std::array<bool, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = true;
  table['"'] = true;
  table['\\'] = true;
  return table;
}
constexpr std::array<bool, 256> kNeedsEscape = MakeNeedsEscapeTable();

/// A JSON string literal. Bytes >= 0x80 pass through: valid UTF-8 stays valid UTF-8.
void AppendJsonString(std::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  const char* data = text.data();
  size_t run_start = 0;
  for (size_t k = 0; k < text.size(); ++k) {
    const auto c = static_cast<unsigned char>(data[k]);
    if (!kNeedsEscape[c]) continue;
    out->append(data + run_start, k - run_start);
    run_start = k + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default: {
        const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out->append(escaped, sizeof(escaped));
      }
    }
  }
  out->append(data + run_start, text.size() - run_start);
  out->push_back('"');
}

void AppendBase64String(std::string_view bytes, std::string* out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  out->push_back('"');
  size_t k = 0;
  for (; k + 3 <= n; k += 3) {
    const uint32_t triple = (data[k] << 16) | (data[k + 1] << 8) | data[k + 2];
    const char quad[] = {kAlphabet[triple >> 18], kAlphabet[(triple >> 12) & 63],
                         kAlphabet[(triple >> 6) & 63], kAlphabet[triple & 63]};
    out->append(quad, 4);
  }
  if (k < n) {
    const uint32_t triple = (data[k] << 16) | (k + 1 < n ? data[k + 1] << 8 : 0);
    const char quad[] = {kAlphabet[triple >> 18], kAlphabet[(triple >> 12) & 63],
                         k + 1 < n ? kAlphabet[(triple >> 6) & 63] : '=', '='};
    out->append(quad, 4);
  }
  out->push_back('"');
}

template <typename Integer>
void AppendInteger(Integer value, std::string* out) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, result.ptr - buffer);
}

/// `value` in decimal with at least `width` digits (zero-padded).
void AppendPadded(uint64_t value, int width, std::string* out) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  const int digits = static_cast<int>(result.ptr - buffer);
  if (digits < width) out->append(width - digits, '0');
  out->append(buffer, digits);
}

/// Shortest round-trip text; NaN and infinities have no JSON spelling and become null.
/// A '.0' is added to integral values so readers infer a floating-point column.
template <typename Float>
void AppendFloat(Float value, std::string* out) {
  if (!std::isfinite(value)) {
    out->append("null");
    return;
  }
  char buffer[40];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  const size_t length = result.ptr - buffer;
  out->append(buffer, length);
  if (std::memchr(buffer, '.', length) == nullptr && std::memchr(buffer, 'e', length) == nullptr) {
    out->append(".0");
  }
}

int64_t FloorDiv(int64_t value, int64_t divisor) {
  const int64_t quotient = value / divisor;
  return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient;
}

/// YYYY-MM-DD for days since 1970-01-01 (proleptic Gregorian; H. Hinnant's algorithm).
void AppendCivilDate(int64_t days, std::string* out) {
  days += 719468;
  const int64_t era = FloorDiv(days, 146097);
  const int64_t day_of_era = days - era * 146097;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t shifted_month = (5 * day_of_year + 2) / 153;
  const int64_t day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
  const int64_t month = shifted_month < 10 ? shifted_month + 3 : shifted_month - 9;
  const int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0) out->push_back('-');
  AppendPadded(static_cast<uint64_t>(year < 0 ? -year : year), 4, out);
  out->push_back('-');
  AppendPadded(month, 2, out);
  out->push_back('-');
  AppendPadded(day, 2, out);
}

/// HH:MM:SS plus `fraction_digits` digits of `fraction` when the unit is finer than seconds.
void AppendClock(int64_t second_of_day, int64_t fraction, int fraction_digits, std::string* out) {
  AppendPadded(second_of_day / 3600, 2, out);
  out->push_back(':');
  AppendPadded((second_of_day / 60) % 60, 2, out);
  out->push_back(':');
  AppendPadded(second_of_day % 60, 2, out);
  if (fraction_digits > 0) {
    out->push_back('.');
    AppendPadded(fraction, fraction_digits, out);
  }
}

struct TimeUnitScale {
  int64_t units_per_second;
  int fraction_digits;
};

TimeUnitScale ScaleOf(arrow::TimeUnit::type unit) {
  switch (unit) {
    case arrow::TimeUnit::SECOND:
      return {1, 0};
    case arrow::TimeUnit::MILLI:
      return {1000, 3};
    case arrow::TimeUnit::MICRO:
      return {1000000, 6};
    case arrow::TimeUnit::NANO:
      return {1000000000, 9};
  }
  return {1, 0};
}

/// YYYY-MM-DDTHH:MM:SS[.fraction] for `value` units since the epoch.
void AppendDateTime(int64_t value, TimeUnitScale scale, std::string* out) {
  const int64_t seconds = FloorDiv(value, scale.units_per_second);
  const int64_t fraction = value - seconds * scale.units_per_second;
  const int64_t days = FloorDiv(seconds, 86400);
  AppendCivilDate(days, out);
  out->push_back('T');
  AppendClock(seconds - days * 86400, fraction, scale.fraction_digits, out);
}

/// "Z" for UTC, otherwise +HH:MM (and :SS for the odd historical offset).
void AppendUtcOffset(int64_t offset_seconds, std::string* out) {
  if (offset_seconds == 0) {
    out->push_back('Z');
    return;
  }
  out->push_back(offset_seconds < 0 ? '-' : '+');
  const int64_t magnitude = offset_seconds < 0 ? -offset_seconds : offset_seconds;
  AppendPadded(magnitude / 3600, 2, out);
  out->push_back(':');
  AppendPadded((magnitude / 60) % 60, 2, out);
  if (magnitude % 60 != 0) {
    out->push_back(':');
    AppendPadded(magnitude % 60, 2, out);
  }
}

__extension__ using Int128 = __int128;
__extension__ using UInt128 = unsigned __int128;

/// Decimal digits of a 128-bit magnitude into the end of `buffer`; returns the first one.
char* FormatDigits(UInt128 magnitude, char* buffer_end) {
  constexpr uint64_t kChunk = 10000000000000000000ULL;  // 10^19, the largest power in 64 bits
  char* cursor = buffer_end;
  while (magnitude > UINT64_MAX) {
    uint64_t low = static_cast<uint64_t>(magnitude % kChunk);
    magnitude /= kChunk;
    for (int d = 0; d < 19; ++d, low /= 10) *--cursor = static_cast<char>('0' + low % 10);
  }
  uint64_t rest = static_cast<uint64_t>(magnitude);
  do {
    *--cursor = static_cast<char>('0' + rest % 10);
    rest /= 10;
  } while (rest != 0);
  return cursor;
}

/// A decimal's unscaled integer and scale as a JSON number, e.g. (-12345, 2) -> -123.45.
void AppendScaledInteger(Int128 unscaled, int32_t scale, std::string* out) {
  char buffer[48];
  const bool negative = unscaled < 0;
  const UInt128 magnitude =
      negative ? -static_cast<UInt128>(unscaled) : static_cast<UInt128>(unscaled);
  const char* first = FormatDigits(magnitude, buffer + sizeof(buffer));
  const int64_t digits = buffer + sizeof(buffer) - first;
  if (negative) out->push_back('-');
  if (scale <= 0) {
    out->append(first, digits);
    if (magnitude != 0) out->append(static_cast<size_t>(-static_cast<int64_t>(scale)), '0');
  } else if (digits <= scale) {
    out->append("0.");
    out->append(static_cast<size_t>(scale - digits), '0');
    out->append(first, digits);
  } else {
    out->append(first, digits - scale);
    out->push_back('.');
    out->append(first + digits - scale, scale);
  }
}

// ---- Value encoders: one per array, built per batch, with type-specific state
// (raw arrays, child encoders, precomputed keys) resolved once.

class ValueEncoder {
 public:
  explicit ValueEncoder(std::shared_ptr<arrow::Array> array)
      : array_(std::move(array)), may_have_nulls_(array_->null_count() != 0) {}
  virtual ~ValueEncoder() = default;

  /// Appends the JSON text of element `i`.
  virtual void Append(int64_t i, std::string* out) = 0;
  /// Appends every element, recording where each one's text ends.
  virtual void AppendColumn(std::string* out, std::vector<size_t>* ends) = 0;

 protected:
  bool IsNull(int64_t i) const { return may_have_nulls_ && array_->IsNull(i); }

  std::shared_ptr<arrow::Array> array_;
  bool may_have_nulls_;
};

arrow::Result<std::unique_ptr<ValueEncoder>> MakeValueEncoder(std::shared_ptr<arrow::Array> array);

/// The null check and the column loop, around the derived class's AppendValid(). The loop
/// calls AppendValid() directly, so there is one virtual call per column, not per value.
template <typename Derived>
class EncoderBase : public ValueEncoder {
 public:
  using ValueEncoder::ValueEncoder;

  void Append(int64_t i, std::string* out) final {
    if (IsNull(i)) {
      out->append("null");
    } else {
      static_cast<Derived*>(this)->AppendValid(i, out);
    }
  }
  void AppendColumn(std::string* out, std::vector<size_t>* ends) final {
    const int64_t length = array_->length();
    ends->reserve(ends->size() + length);
    for (int64_t i = 0; i < length; ++i) {
      Append(i, out);
      ends->push_back(out->size());
    }
  }

 protected:
  template <typename ArrayType>
  const ArrayType& typed() const {
    return static_cast<const ArrayType&>(*array_);
  }
};

class NullEncoder : public EncoderBase<NullEncoder> {
 public:
  using EncoderBase::EncoderBase;
  void AppendValid(int64_t, std::string* out) { out->append("null"); }
};

class BooleanEncoder : public EncoderBase<BooleanEncoder> {
 public:
  using EncoderBase::EncoderBase;
  void AppendValid(int64_t i, std::string* out) {
    out->append(typed<arrow::BooleanArray>().Value(i) ? "true" : "false");
  }
};

template <typename ArrowType>
class IntegerEncoder : public EncoderBase<IntegerEncoder<ArrowType>> {
 public:
  explicit IntegerEncoder(std::shared_ptr<arrow::Array> array)
      : EncoderBase<IntegerEncoder<ArrowType>>(array),
        values_(static_cast<const arrow::NumericArray<ArrowType>&>(*array).raw_values()) {}
  void AppendValid(int64_t i, std::string* out) { AppendInteger(values_[i], out); }

 private:
  const typename ArrowType::c_type* values_;
};

template <typename ArrowType>
class FloatEncoder : public EncoderBase<FloatEncoder<ArrowType>> {
 public:
  explicit FloatEncoder(std::shared_ptr<arrow::Array> array)
      : EncoderBase<FloatEncoder<ArrowType>>(array),
        values_(static_cast<const arrow::NumericArray<ArrowType>&>(*array).raw_values()) {}
  void AppendValid(int64_t i, std::string* out) {
    if constexpr (std::is_same_v<ArrowType, arrow::HalfFloatType>) {
      AppendFloat(arrow::util::Float16::FromBits(values_[i]).ToFloat(), out);
    } else {
      AppendFloat(values_[i], out);
    }
  }

 private:
  const typename ArrowType::c_type* values_;
};

template <typename ArrayType>
class StringEncoder : public EncoderBase<StringEncoder<ArrayType>> {
 public:
  using EncoderBase<StringEncoder<ArrayType>>::EncoderBase;
  void AppendValid(int64_t i, std::string* out) {
    AppendJsonString(this->template typed<ArrayType>().GetView(i), out);
  }
};

template <typename ArrayType>
class BinaryEncoder : public EncoderBase<BinaryEncoder<ArrayType>> {
 public:
  using EncoderBase<BinaryEncoder<ArrayType>>::EncoderBase;
  void AppendValid(int64_t i, std::string* out) {
    AppendBase64String(this->template typed<ArrayType>().GetView(i), out);
  }
};

template <typename ArrayType>
class DecimalEncoder : public EncoderBase<DecimalEncoder<ArrayType>> {
 public:
  explicit DecimalEncoder(std::shared_ptr<arrow::Array> array)
      : EncoderBase<DecimalEncoder<ArrayType>>(array),
        scale_(static_cast<const arrow::DecimalType&>(*array->type()).scale()) {}
  void AppendValid(int64_t i, std::string* out) {
    const uint8_t* bytes = this->template typed<ArrayType>().GetValue(i);
    if constexpr (std::is_same_v<ArrayType, arrow::Decimal32Array>) {
      int32_t unscaled;
      std::memcpy(&unscaled, bytes, sizeof(unscaled));
      AppendScaledInteger(unscaled, scale_, out);
    } else if constexpr (std::is_same_v<ArrayType, arrow::Decimal64Array>) {
      int64_t unscaled;
      std::memcpy(&unscaled, bytes, sizeof(unscaled));
      AppendScaledInteger(unscaled, scale_, out);
    } else if constexpr (std::is_same_v<ArrayType, arrow::Decimal128Array>) {
      // Little-endian two's complement: low word first.
      uint64_t low;
      int64_t high;
      std::memcpy(&low, bytes, sizeof(low));
      std::memcpy(&high, bytes + 8, sizeof(high));
      AppendScaledInteger(static_cast<Int128>((static_cast<UInt128>(high) << 64) | low), scale_,
                          out);
    } else {
      // 256-bit decimals are rare; Arrow's formatter (which allocates) is fine here.
      out->append(arrow::Decimal256(bytes).ToString(scale_));
    }
  }

 private:
  int32_t scale_;
};

class Date32Encoder : public EncoderBase<Date32Encoder> {
 public:
  using EncoderBase::EncoderBase;
  void AppendValid(int64_t i, std::string* out) {
    out->push_back('"');
    AppendCivilDate(typed<arrow::Date32Array>().Value(i), out);
    out->push_back('"');
  }
};

class Date64Encoder : public EncoderBase<Date64Encoder> {
 public:
  using EncoderBase::EncoderBase;
  void AppendValid(int64_t i, std::string* out) {
    out->push_back('"');
    AppendCivilDate(FloorDiv(typed<arrow::Date64Array>().Value(i), 86400000), out);
    out->push_back('"');
  }
};

/// Zoned timestamps hold UTC instants. `local_values`, when given, holds the same instants
/// as wall-clock time in the type's zone; their difference is the offset written after
/// the local time.
class TimestampEncoder : public EncoderBase<TimestampEncoder> {
 public:
  TimestampEncoder(std::shared_ptr<arrow::Array> array, std::shared_ptr<arrow::Array> local)
      : EncoderBase(array),
        scale_(ScaleOf(static_cast<const arrow::TimestampType&>(*array->type()).unit())),
        zoned_(!static_cast<const arrow::TimestampType&>(*array->type()).timezone().empty()),
        local_(std::move(local)) {}
  void AppendValid(int64_t i, std::string* out) {
    const int64_t utc = typed<arrow::TimestampArray>().Value(i);
    out->push_back('"');
    if (local_) {
      const int64_t local = static_cast<const arrow::TimestampArray&>(*local_).Value(i);
      AppendDateTime(local, scale_, out);
      AppendUtcOffset((local - utc) / scale_.units_per_second, out);
    } else {
      AppendDateTime(utc, scale_, out);
      if (zoned_) out->push_back('Z');
    }
    out->push_back('"');
  }

 private:
  TimeUnitScale scale_;
  bool zoned_;
  std::shared_ptr<arrow::Array> local_;
};

template <typename ArrayType>
class TimeOfDayEncoder : public EncoderBase<TimeOfDayEncoder<ArrayType>> {
 public:
  explicit TimeOfDayEncoder(std::shared_ptr<arrow::Array> array)
      : EncoderBase<TimeOfDayEncoder<ArrayType>>(array),
        scale_(ScaleOf(static_cast<const arrow::TimeType&>(*array->type()).unit())) {}
  void AppendValid(int64_t i, std::string* out) {
    const int64_t value = this->template typed<ArrayType>().Value(i);
    const int64_t seconds = FloorDiv(value, scale_.units_per_second);
    out->push_back('"');
    AppendClock(seconds, value - seconds * scale_.units_per_second, scale_.fraction_digits, out);
    out->push_back('"');
  }

 private:
  TimeUnitScale scale_;
};

class DayTimeIntervalEncoder : public EncoderBase<DayTimeIntervalEncoder> {
 public:
  using EncoderBase::EncoderBase;
  void AppendValid(int64_t i, std::string* out) {
    const auto value = typed<arrow::DayTimeIntervalArray>().GetValue(i);
    out->append("{\"days\":");
    AppendInteger(value.days, out);
    out->append(",\"milliseconds\":");
    AppendInteger(value.milliseconds, out);
    out->push_back('}');
  }
};

class MonthDayNanoIntervalEncoder : public EncoderBase<MonthDayNanoIntervalEncoder> {
 public:
  using EncoderBase::EncoderBase;
  void AppendValid(int64_t i, std::string* out) {
    const auto value = typed<arrow::MonthDayNanoIntervalArray>().GetValue(i);
    out->append("{\"months\":");
    AppendInteger(value.months, out);
    out->append(",\"days\":");
    AppendInteger(value.days, out);
    out->append(",\"nanoseconds\":");
    AppendInteger(value.nanoseconds, out);
    out->push_back('}');
  }
};

/// list, large_list, list_view, large_list_view and fixed_size_list: a JSON array.
template <typename ArrayType>
class ListEncoder : public EncoderBase<ListEncoder<ArrayType>> {
 public:
  ListEncoder(std::shared_ptr<arrow::Array> array, std::unique_ptr<ValueEncoder> values)
      : EncoderBase<ListEncoder<ArrayType>>(std::move(array)), values_(std::move(values)) {}
  void AppendValid(int64_t i, std::string* out) {
    const auto& list = this->template typed<ArrayType>();
    const int64_t begin = list.value_offset(i);
    const int64_t end = begin + list.value_length(i);
    out->push_back('[');
    for (int64_t j = begin; j < end; ++j) {
      if (j != begin) out->push_back(',');
      values_->Append(j, out);
    }
    out->push_back(']');
  }

 private:
  std::unique_ptr<ValueEncoder> values_;
};

/// `"name":` for each field, the comma included for all but the first.
std::vector<std::string> KeyPrefixes(const arrow::FieldVector& fields) {
  std::vector<std::string> prefixes;
  prefixes.reserve(fields.size());
  for (size_t k = 0; k < fields.size(); ++k) {
    std::string prefix = k == 0 ? "" : ",";
    AppendJsonString(fields[k]->name(), &prefix);
    prefix.push_back(':');
    prefixes.push_back(std::move(prefix));
  }
  return prefixes;
}

class StructEncoder : public EncoderBase<StructEncoder> {
 public:
  StructEncoder(std::shared_ptr<arrow::Array> array,
                std::vector<std::unique_ptr<ValueEncoder>> fields)
      : EncoderBase(array),
        key_prefixes_(KeyPrefixes(array->type()->fields())),
        fields_(std::move(fields)) {}
  void AppendValid(int64_t i, std::string* out) {
    out->push_back('{');
    for (size_t k = 0; k < fields_.size(); ++k) {
      out->append(key_prefixes_[k]);
      fields_[k]->Append(i, out);
    }
    out->push_back('}');
  }

 private:
  std::vector<std::string> key_prefixes_;
  std::vector<std::unique_ptr<ValueEncoder>> fields_;
};

/// A JSON object per map. JSON keys are strings, so other key types are written as the
/// string of their JSON text (1 -> "1").
class MapEncoder : public EncoderBase<MapEncoder> {
 public:
  MapEncoder(std::shared_ptr<arrow::Array> array, std::unique_ptr<ValueEncoder> keys,
             std::unique_ptr<ValueEncoder> items, bool string_keys)
      : EncoderBase(array),
        keys_(std::move(keys)),
        items_(std::move(items)),
        string_keys_(string_keys) {}
  void AppendValid(int64_t i, std::string* out) {
    const auto& map = typed<arrow::MapArray>();
    const int64_t begin = map.value_offset(i);
    const int64_t end = begin + map.value_length(i);
    out->push_back('{');
    for (int64_t j = begin; j < end; ++j) {
      if (j != begin) out->push_back(',');
      if (string_keys_) {
        keys_->Append(j, out);
      } else {
        key_scratch_.clear();
        keys_->Append(j, &key_scratch_);
        if (!key_scratch_.empty() && key_scratch_[0] == '"') {
          out->append(key_scratch_);
        } else {
          AppendJsonString(key_scratch_, out);
        }
      }
      out->push_back(':');
      items_->Append(j, out);
    }
    out->push_back('}');
  }

 private:
  std::unique_ptr<ValueEncoder> keys_;
  std::unique_ptr<ValueEncoder> items_;
  bool string_keys_;
  std::string key_scratch_;  // reused for every non-string key
};

/// Writes the dictionary value an index points at.
class DictionaryEncoder : public EncoderBase<DictionaryEncoder> {
 public:
  DictionaryEncoder(std::shared_ptr<arrow::Array> array, std::unique_ptr<ValueEncoder> values)
      : EncoderBase(array), values_(std::move(values)) {}
  void AppendValid(int64_t i, std::string* out) {
    values_->Append(typed<arrow::DictionaryArray>().GetValueIndex(i), out);
  }

 private:
  std::unique_ptr<ValueEncoder> values_;
};

/// Writes the value of whichever child each slot selects. Unions have no validity bitmap
/// of their own: a null is a null in the selected child.
class UnionEncoder : public EncoderBase<UnionEncoder> {
 public:
  UnionEncoder(std::shared_ptr<arrow::Array> array,
               std::vector<std::unique_ptr<ValueEncoder>> children)
      : EncoderBase(array),
        children_(std::move(children)),
        dense_(array->type_id() == arrow::Type::DENSE_UNION) {
    may_have_nulls_ = false;
  }
  void AppendValid(int64_t i, std::string* out) {
    const auto& unions = typed<arrow::UnionArray>();
    const int child = unions.child_id(i);
    const int64_t index =
        dense_ ? static_cast<const arrow::DenseUnionArray&>(unions).value_offset(i) : i;
    children_[child]->Append(index, out);
  }

 private:
  std::vector<std::unique_ptr<ValueEncoder>> children_;
  bool dense_;
};

template <typename Encoder, typename... Extra>
arrow::Result<std::unique_ptr<ValueEncoder>> Make(std::shared_ptr<arrow::Array> array,
                                                  Extra&&... extra) {
  return std::unique_ptr<ValueEncoder>(
      new Encoder(std::move(array), std::forward<Extra>(extra)...));
}

template <typename ArrayType>
arrow::Result<std::unique_ptr<ValueEncoder>> MakeListEncoder(std::shared_ptr<arrow::Array> array) {
  ARROW_ASSIGN_OR_RAISE(auto values,
                        MakeValueEncoder(static_cast<const ArrayType&>(*array).values()));
  return Make<ListEncoder<ArrayType>>(std::move(array), std::move(values));
}

arrow::Result<std::unique_ptr<ValueEncoder>> MakeTimestampEncoder(
    std::shared_ptr<arrow::Array> array) {
  const auto& type = static_cast<const arrow::TimestampType&>(*array->type());
  std::shared_ptr<arrow::Array> local;
  if (!type.timezone().empty()) {
    // Wall-clock times from Arrow's time zone database. If the zone is unknown there,
    // the UTC instant (suffix Z) is still correct, just not localized.
    auto converted = arrow::compute::LocalTimestamp(arrow::Datum(array));
    if (converted.ok()) local = converted->make_array();
  }
  return Make<TimestampEncoder>(std::move(array), std::move(local));
}

arrow::Result<std::unique_ptr<ValueEncoder>> MakeValueEncoder(std::shared_ptr<arrow::Array> array) {
  using arrow::Type;
  switch (array->type_id()) {
    case Type::NA:
      return Make<NullEncoder>(std::move(array));
    case Type::BOOL:
      return Make<BooleanEncoder>(std::move(array));
    case Type::INT8:
      return Make<IntegerEncoder<arrow::Int8Type>>(std::move(array));
    case Type::INT16:
      return Make<IntegerEncoder<arrow::Int16Type>>(std::move(array));
    case Type::INT32:
      return Make<IntegerEncoder<arrow::Int32Type>>(std::move(array));
    case Type::INT64:
      return Make<IntegerEncoder<arrow::Int64Type>>(std::move(array));
    case Type::UINT8:
      return Make<IntegerEncoder<arrow::UInt8Type>>(std::move(array));
    case Type::UINT16:
      return Make<IntegerEncoder<arrow::UInt16Type>>(std::move(array));
    case Type::UINT32:
      return Make<IntegerEncoder<arrow::UInt32Type>>(std::move(array));
    case Type::UINT64:
      return Make<IntegerEncoder<arrow::UInt64Type>>(std::move(array));
    case Type::HALF_FLOAT:
      return Make<FloatEncoder<arrow::HalfFloatType>>(std::move(array));
    case Type::FLOAT:
      return Make<FloatEncoder<arrow::FloatType>>(std::move(array));
    case Type::DOUBLE:
      return Make<FloatEncoder<arrow::DoubleType>>(std::move(array));
    case Type::STRING:
      return Make<StringEncoder<arrow::StringArray>>(std::move(array));
    case Type::LARGE_STRING:
      return Make<StringEncoder<arrow::LargeStringArray>>(std::move(array));
    case Type::STRING_VIEW:
      return Make<StringEncoder<arrow::StringViewArray>>(std::move(array));
    case Type::BINARY:
      return Make<BinaryEncoder<arrow::BinaryArray>>(std::move(array));
    case Type::LARGE_BINARY:
      return Make<BinaryEncoder<arrow::LargeBinaryArray>>(std::move(array));
    case Type::BINARY_VIEW:
      return Make<BinaryEncoder<arrow::BinaryViewArray>>(std::move(array));
    case Type::FIXED_SIZE_BINARY:
      return Make<BinaryEncoder<arrow::FixedSizeBinaryArray>>(std::move(array));
    case Type::DECIMAL32:
      return Make<DecimalEncoder<arrow::Decimal32Array>>(std::move(array));
    case Type::DECIMAL64:
      return Make<DecimalEncoder<arrow::Decimal64Array>>(std::move(array));
    case Type::DECIMAL128:
      return Make<DecimalEncoder<arrow::Decimal128Array>>(std::move(array));
    case Type::DECIMAL256:
      return Make<DecimalEncoder<arrow::Decimal256Array>>(std::move(array));
    case Type::DATE32:
      return Make<Date32Encoder>(std::move(array));
    case Type::DATE64:
      return Make<Date64Encoder>(std::move(array));
    case Type::TIMESTAMP:
      return MakeTimestampEncoder(std::move(array));
    case Type::TIME32:
      return Make<TimeOfDayEncoder<arrow::Time32Array>>(std::move(array));
    case Type::TIME64:
      return Make<TimeOfDayEncoder<arrow::Time64Array>>(std::move(array));
    case Type::DURATION:
      return Make<IntegerEncoder<arrow::DurationType>>(std::move(array));
    case Type::INTERVAL_MONTHS:
      return Make<IntegerEncoder<arrow::MonthIntervalType>>(std::move(array));
    case Type::INTERVAL_DAY_TIME:
      return Make<DayTimeIntervalEncoder>(std::move(array));
    case Type::INTERVAL_MONTH_DAY_NANO:
      return Make<MonthDayNanoIntervalEncoder>(std::move(array));
    case Type::LIST:
      return MakeListEncoder<arrow::ListArray>(std::move(array));
    case Type::LARGE_LIST:
      return MakeListEncoder<arrow::LargeListArray>(std::move(array));
    case Type::LIST_VIEW:
      return MakeListEncoder<arrow::ListViewArray>(std::move(array));
    case Type::LARGE_LIST_VIEW:
      return MakeListEncoder<arrow::LargeListViewArray>(std::move(array));
    case Type::FIXED_SIZE_LIST:
      return MakeListEncoder<arrow::FixedSizeListArray>(std::move(array));
    case Type::STRUCT: {
      const auto& structs = static_cast<const arrow::StructArray&>(*array);
      std::vector<std::unique_ptr<ValueEncoder>> fields;
      for (int k = 0; k < structs.num_fields(); ++k) {
        ARROW_ASSIGN_OR_RAISE(auto field, MakeValueEncoder(structs.field(k)));
        fields.push_back(std::move(field));
      }
      return Make<StructEncoder>(std::move(array), std::move(fields));
    }
    case Type::MAP: {
      const auto& map = static_cast<const arrow::MapArray&>(*array);
      ARROW_ASSIGN_OR_RAISE(auto keys, MakeValueEncoder(map.keys()));
      ARROW_ASSIGN_OR_RAISE(auto items, MakeValueEncoder(map.items()));
      const auto key_type = map.keys()->type_id();
      const bool string_keys = key_type == Type::STRING || key_type == Type::LARGE_STRING ||
                               key_type == Type::STRING_VIEW;
      return Make<MapEncoder>(std::move(array), std::move(keys), std::move(items), string_keys);
    }
    case Type::SPARSE_UNION:
    case Type::DENSE_UNION: {
      const auto& unions = static_cast<const arrow::UnionArray&>(*array);
      std::vector<std::unique_ptr<ValueEncoder>> children;
      for (int k = 0; k < unions.num_fields(); ++k) {
        ARROW_ASSIGN_OR_RAISE(auto child, MakeValueEncoder(unions.field(k)));
        children.push_back(std::move(child));
      }
      return Make<UnionEncoder>(std::move(array), std::move(children));
    }
    case Type::DICTIONARY: {
      ARROW_ASSIGN_OR_RAISE(
          auto values,
          MakeValueEncoder(static_cast<const arrow::DictionaryArray&>(*array).dictionary()));
      return Make<DictionaryEncoder>(std::move(array), std::move(values));
    }
    case Type::EXTENSION:
      return MakeValueEncoder(static_cast<const arrow::ExtensionArray&>(*array).storage());
    case Type::RUN_END_ENCODED: {
      // Rare in practice; decoding first keeps the per-value path simple.
      ARROW_ASSIGN_OR_RAISE(auto decoded, arrow::compute::RunEndDecode(arrow::Datum(array)));
      return MakeValueEncoder(decoded.make_array());
    }
    default:
      break;
  }
  return arrow::Status::NotImplemented("JSON lines: cannot write values of type ",
                                       array->type()->ToString());
}

}  // namespace

JsonLinesEncoder::JsonLinesEncoder(std::shared_ptr<arrow::Schema> schema)
    : schema_(std::move(schema)),
      key_prefixes_(KeyPrefixes(schema_->fields())),
      column_text_(schema_->num_fields()),
      column_ends_(schema_->num_fields()) {}

arrow::Result<std::unique_ptr<JsonLinesEncoder>> JsonLinesEncoder::Make(
    std::shared_ptr<arrow::Schema> schema) {
  // Fail at file open rather than at the first batch: bind encoders to empty columns.
  for (const auto& field : schema->fields()) {
    ARROW_ASSIGN_OR_RAISE(auto empty, arrow::MakeEmptyArray(field->type()));
    auto encoder = MakeValueEncoder(std::move(empty));
    if (!encoder.ok()) {
      return encoder.status().WithMessage("column '", field->name(),
                                          "': ", encoder.status().message());
    }
  }
  return std::unique_ptr<JsonLinesEncoder>(new JsonLinesEncoder(std::move(schema)));
}

arrow::Status JsonLinesEncoder::Encode(const arrow::RecordBatch& batch, std::string* out) {
  const int num_columns = schema_->num_fields();
  if (batch.num_columns() != num_columns) {
    return arrow::Status::Invalid("JSON lines: batch has ", batch.num_columns(),
                                  " columns, expected ", num_columns);
  }
  const int64_t num_rows = batch.num_rows();
  size_t total = static_cast<size_t>(num_rows) * 3;  // '{', '}', '\n'
  for (int c = 0; c < num_columns; ++c) {
    if (!batch.column(c)->type()->Equals(*schema_->field(c)->type())) {
      return arrow::Status::TypeError("JSON lines: column '", schema_->field(c)->name(),
                                      "' has type ", batch.column(c)->type()->ToString(),
                                      ", expected ", schema_->field(c)->type()->ToString());
    }
    ARROW_ASSIGN_OR_RAISE(auto encoder, MakeValueEncoder(batch.column(c)));
    column_text_[c].clear();
    column_ends_[c].clear();
    encoder->AppendColumn(&column_text_[c], &column_ends_[c]);
    total += column_text_[c].size() + key_prefixes_[c].size() * num_rows;
  }

  // Interleave the columns into lines with one resize and plain copies.
  const size_t start = out->size();
  out->resize(start + total);
  char* cursor = out->data() + start;
  auto copy = [&cursor](const char* data, size_t size) {
    std::memcpy(cursor, data, size);
    cursor += size;
  };
  for (int64_t row = 0; row < num_rows; ++row) {
    *cursor++ = '{';
    for (int c = 0; c < num_columns; ++c) {
      copy(key_prefixes_[c].data(), key_prefixes_[c].size());
      const size_t begin = row == 0 ? 0 : column_ends_[c][row - 1];
      copy(column_text_[c].data() + begin, column_ends_[c][row] - begin);
    }
    *cursor++ = '}';
    *cursor++ = '\n';
  }
  return arrow::Status::OK();
}

arrow::Result<std::string> EncodeJsonLines(const arrow::RecordBatch& batch) {
  ARROW_ASSIGN_OR_RAISE(auto encoder, JsonLinesEncoder::Make(batch.schema()));
  std::string out;
  ARROW_RETURN_NOT_OK(encoder->Encode(batch, &out));
  return out;
}

}  // namespace sluice::io
