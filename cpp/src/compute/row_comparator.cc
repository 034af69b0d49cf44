#include "compute/row_comparator.h"

#include <arrow/util/bit_util.h>
#include <arrow/util/decimal.h>

#include <cmath>
#include <cstring>
#include <string_view>

namespace sluice::compute {

namespace {

template <typename T>
int CompareValues(const arrow::ArrayData& a, int64_t i, const arrow::ArrayData& b, int64_t j) {
  const T x = a.GetValues<T>(1)[i];
  const T y = b.GetValues<T>(1)[j];
  return (x > y) - (x < y);
}

template <typename T>
bool IsNan(const arrow::ArrayData& a, int64_t i) {
  return std::isnan(a.GetValues<T>(1)[i]);
}

int CompareBooleans(const arrow::ArrayData& a, int64_t i, const arrow::ArrayData& b, int64_t j) {
  const bool x = arrow::bit_util::GetBit(a.buffers[1]->data(), a.offset + i);
  const bool y = arrow::bit_util::GetBit(b.buffers[1]->data(), b.offset + j);
  return static_cast<int>(x) - static_cast<int>(y);
}

int CompareViews(std::string_view x, std::string_view y) {
  const int c = x.compare(y);
  return (c > 0) - (c < 0);
}

template <typename Offset>
std::string_view BinaryValue(const arrow::ArrayData& a, int64_t i) {
  const Offset* offsets = a.GetValues<Offset>(1);
  const auto* data = reinterpret_cast<const char*>(a.buffers[2]->data());
  return {data + offsets[i], static_cast<size_t>(offsets[i + 1] - offsets[i])};
}

template <typename Offset>
int CompareBinary(const arrow::ArrayData& a, int64_t i, const arrow::ArrayData& b, int64_t j) {
  return CompareViews(BinaryValue<Offset>(a, i), BinaryValue<Offset>(b, j));
}

std::string_view ViewValue(const arrow::ArrayData& a, int64_t i) {
  const auto& view = a.GetValues<arrow::BinaryViewType::c_type>(1)[i];
  if (view.is_inline()) {
    return {reinterpret_cast<const char*>(view.inlined.data.data()),
            static_cast<size_t>(view.size())};
  }
  const auto* data =
      reinterpret_cast<const char*>(a.buffers[2 + view.ref.buffer_index]->data() + view.ref.offset);
  return {data, static_cast<size_t>(view.size())};
}

int CompareBinaryViews(const arrow::ArrayData& a, int64_t i, const arrow::ArrayData& b, int64_t j) {
  return CompareViews(ViewValue(a, i), ViewValue(b, j));
}

int CompareFixedSizeBinary(const arrow::ArrayData& a, int64_t i, const arrow::ArrayData& b,
                           int64_t j) {
  const int width = static_cast<const arrow::FixedSizeBinaryType&>(*a.type).byte_width();
  const auto* x = a.buffers[1]->data() + (a.offset + i) * width;
  const auto* y = b.buffers[1]->data() + (b.offset + j) * width;
  const int c = std::memcmp(x, y, width);
  return (c > 0) - (c < 0);
}

template <typename Decimal>
int CompareDecimals(const arrow::ArrayData& a, int64_t i, const arrow::ArrayData& b, int64_t j) {
  const int width = sizeof(Decimal);
  const Decimal x(a.buffers[1]->data() + (a.offset + i) * width);
  const Decimal y(b.buffers[1]->data() + (b.offset + j) * width);
  return (x > y) - (x < y);
}

}  // namespace

arrow::Result<RowComparator> RowComparator::Make(const arrow::Schema& schema,
                                                 const std::vector<SortKey>& keys) {
  RowComparator comparator;
  for (const auto& sort_key : keys) {
    const int column = schema.GetFieldIndex(sort_key.column);
    if (column < 0) return arrow::Status::KeyError("sort: no column named '", sort_key.column, "'");
    Key key;
    key.column = column;
    key.descending = sort_key.descending;
    key.nulls_first = sort_key.nulls_first;
    const auto& type = *schema.field(column)->type();
    switch (type.id()) {
      case arrow::Type::BOOL:
        key.compare = CompareBooleans;
        break;
      case arrow::Type::INT8:
        key.compare = CompareValues<int8_t>;
        break;
      case arrow::Type::INT16:
        key.compare = CompareValues<int16_t>;
        break;
      case arrow::Type::INT32:
      case arrow::Type::DATE32:
      case arrow::Type::TIME32:
        key.compare = CompareValues<int32_t>;
        break;
      case arrow::Type::INT64:
      case arrow::Type::DATE64:
      case arrow::Type::TIME64:
      case arrow::Type::TIMESTAMP:
      case arrow::Type::DURATION:
        key.compare = CompareValues<int64_t>;
        break;
      case arrow::Type::UINT8:
        key.compare = CompareValues<uint8_t>;
        break;
      case arrow::Type::UINT16:
        key.compare = CompareValues<uint16_t>;
        break;
      case arrow::Type::UINT32:
        key.compare = CompareValues<uint32_t>;
        break;
      case arrow::Type::UINT64:
        key.compare = CompareValues<uint64_t>;
        break;
      case arrow::Type::FLOAT:
        key.compare = CompareValues<float>;
        key.is_nan = IsNan<float>;
        break;
      case arrow::Type::DOUBLE:
        key.compare = CompareValues<double>;
        key.is_nan = IsNan<double>;
        break;
      case arrow::Type::STRING:
      case arrow::Type::BINARY:
        key.compare = CompareBinary<int32_t>;
        break;
      case arrow::Type::LARGE_STRING:
      case arrow::Type::LARGE_BINARY:
        key.compare = CompareBinary<int64_t>;
        break;
      case arrow::Type::STRING_VIEW:
      case arrow::Type::BINARY_VIEW:
        key.compare = CompareBinaryViews;
        break;
      case arrow::Type::FIXED_SIZE_BINARY:
        key.compare = CompareFixedSizeBinary;
        break;
      case arrow::Type::DECIMAL128:
        key.compare = CompareDecimals<arrow::Decimal128>;
        break;
      case arrow::Type::DECIMAL256:
        key.compare = CompareDecimals<arrow::Decimal256>;
        break;
      default:
        return arrow::Status::NotImplemented("sort: cannot order column '", sort_key.column,
                                             "' of type ", type.ToString(),
                                             " when the sort spills to disk");
    }
    comparator.keys_.push_back(key);
  }
  return comparator;
}

RowComparator::KeyColumns RowComparator::KeysOf(const arrow::RecordBatch& batch) const {
  KeyColumns columns;
  columns.reserve(keys_.size());
  for (const auto& key : keys_) columns.push_back(batch.column_data(key.column).get());
  return columns;
}

int RowComparator::Compare(const KeyColumns& a, int64_t i, const KeyColumns& b, int64_t j) const {
  for (size_t k = 0; k < keys_.size(); ++k) {
    const Key& key = keys_[k];
    const arrow::ArrayData& x = *a[k];
    const arrow::ArrayData& y = *b[k];
    // Nulls, then NaNs, sit at the chosen end whatever the direction.
    const bool x_null = x.IsNull(i);
    const bool y_null = y.IsNull(j);
    if (x_null || y_null) {
      if (x_null && y_null) continue;
      return (x_null == key.nulls_first) ? -1 : 1;
    }
    if (key.is_nan) {
      const bool x_nan = key.is_nan(x, i);
      const bool y_nan = key.is_nan(y, j);
      if (x_nan || y_nan) {
        if (x_nan && y_nan) continue;
        return (x_nan == key.nulls_first) ? -1 : 1;
      }
    }
    const int c = key.compare(x, i, y, j);
    if (c != 0) return key.descending ? -c : c;
  }
  return 0;
}

}  // namespace sluice::compute
