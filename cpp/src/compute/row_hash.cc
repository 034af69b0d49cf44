#include "compute/row_hash.h"

#include <arrow/util/hashing.h>

#include <cmath>
#include <cstring>

namespace sluice::compute {

namespace {

/// MurmurHash3's 64-bit finalizer: every input bit affects every output bit.
inline uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

inline uint64_t Combine(uint64_t row_hash, uint64_t value_hash) {
  return Mix(row_hash ^ (value_hash + 0x9e3779b97f4a7c15ULL + (row_hash << 6) + (row_hash >> 2)));
}

constexpr uint64_t kNullHash = 0x6a09e667f3bcc909ULL;

template <typename ValueOf>
void CombineEach(const arrow::Array& column, uint64_t seed, std::vector<uint64_t>* hashes,
                 ValueOf value_of) {
  uint64_t* out = hashes->data();
  const int64_t n = column.length();
  if (column.null_count() == 0) {
    for (int64_t i = 0; i < n; ++i) out[i] = Combine(out[i], Mix(value_of(i) ^ seed));
  } else {
    for (int64_t i = 0; i < n; ++i) {
      out[i] = Combine(out[i], column.IsNull(i) ? kNullHash : Mix(value_of(i) ^ seed));
    }
  }
}

template <typename ArrayType>
void HashIntegers(const arrow::Array& column, uint64_t seed, std::vector<uint64_t>* hashes) {
  const auto* values = static_cast<const ArrayType&>(column).raw_values();
  CombineEach(column, seed, hashes, [values](int64_t i) {
    return static_cast<uint64_t>(static_cast<int64_t>(values[i]));
  });
}

template <typename ArrayType>
void HashFloats(const arrow::Array& column, uint64_t seed, std::vector<uint64_t>* hashes) {
  const auto* values = static_cast<const ArrayType&>(column).raw_values();
  CombineEach(column, seed, hashes, [values](int64_t i) {
    double value = static_cast<double>(values[i]);
    if (value == 0) value = 0;  // -0.0 == 0.0
    if (std::isnan(value)) value = std::numeric_limits<double>::quiet_NaN();
    uint64_t bits;
    std::memcpy(&bits, &value, sizeof(bits));
    return bits;
  });
}

template <typename ArrayType>
void HashBinary(const arrow::Array& column, uint64_t seed, std::vector<uint64_t>* hashes) {
  const auto& array = static_cast<const ArrayType&>(column);
  CombineEach(column, seed, hashes, [&array](int64_t i) {
    std::string_view view = array.GetView(i);
    return static_cast<uint64_t>(
        arrow::internal::ComputeStringHash<0>(view.data(), static_cast<int64_t>(view.size())));
  });
}

}  // namespace

arrow::Status HashRows(const std::vector<std::shared_ptr<arrow::Array>>& columns, uint64_t seed,
                       std::vector<uint64_t>* hashes) {
  const int64_t n = columns.empty() ? 0 : columns[0]->length();
  hashes->assign(n, Mix(seed + 1));
  for (const auto& column : columns) {
    if (column->length() != n) {
      return arrow::Status::Invalid("HashRows: columns differ in length");
    }
    switch (column->type_id()) {
      case arrow::Type::BOOL: {
        const auto& bools = static_cast<const arrow::BooleanArray&>(*column);
        CombineEach(*column, seed, hashes,
                    [&bools](int64_t i) -> uint64_t { return bools.Value(i); });
        break;
      }
      case arrow::Type::INT8:
        HashIntegers<arrow::Int8Array>(*column, seed, hashes);
        break;
      case arrow::Type::INT16:
        HashIntegers<arrow::Int16Array>(*column, seed, hashes);
        break;
      case arrow::Type::INT32:
        HashIntegers<arrow::Int32Array>(*column, seed, hashes);
        break;
      case arrow::Type::INT64:
        HashIntegers<arrow::Int64Array>(*column, seed, hashes);
        break;
      case arrow::Type::UINT8:
        HashIntegers<arrow::UInt8Array>(*column, seed, hashes);
        break;
      case arrow::Type::UINT16:
        HashIntegers<arrow::UInt16Array>(*column, seed, hashes);
        break;
      case arrow::Type::UINT32:
        HashIntegers<arrow::UInt32Array>(*column, seed, hashes);
        break;
      case arrow::Type::UINT64:
        HashIntegers<arrow::UInt64Array>(*column, seed, hashes);
        break;
      case arrow::Type::DATE32:
        HashIntegers<arrow::Date32Array>(*column, seed, hashes);
        break;
      case arrow::Type::DATE64:
        HashIntegers<arrow::Date64Array>(*column, seed, hashes);
        break;
      case arrow::Type::TIME32:
        HashIntegers<arrow::Time32Array>(*column, seed, hashes);
        break;
      case arrow::Type::TIME64:
        HashIntegers<arrow::Time64Array>(*column, seed, hashes);
        break;
      case arrow::Type::TIMESTAMP:
        HashIntegers<arrow::TimestampArray>(*column, seed, hashes);
        break;
      case arrow::Type::DURATION:
        HashIntegers<arrow::DurationArray>(*column, seed, hashes);
        break;
      case arrow::Type::FLOAT:
        HashFloats<arrow::FloatArray>(*column, seed, hashes);
        break;
      case arrow::Type::DOUBLE:
        HashFloats<arrow::DoubleArray>(*column, seed, hashes);
        break;
      case arrow::Type::STRING:
        HashBinary<arrow::StringArray>(*column, seed, hashes);
        break;
      case arrow::Type::BINARY:
        HashBinary<arrow::BinaryArray>(*column, seed, hashes);
        break;
      case arrow::Type::LARGE_STRING:
        HashBinary<arrow::LargeStringArray>(*column, seed, hashes);
        break;
      case arrow::Type::LARGE_BINARY:
        HashBinary<arrow::LargeBinaryArray>(*column, seed, hashes);
        break;
      case arrow::Type::STRING_VIEW:
        HashBinary<arrow::StringViewArray>(*column, seed, hashes);
        break;
      case arrow::Type::BINARY_VIEW:
        HashBinary<arrow::BinaryViewArray>(*column, seed, hashes);
        break;
      case arrow::Type::FIXED_SIZE_BINARY:
      case arrow::Type::DECIMAL32:
      case arrow::Type::DECIMAL64:
      case arrow::Type::DECIMAL128:
      case arrow::Type::DECIMAL256:
        HashBinary<arrow::FixedSizeBinaryArray>(*column, seed, hashes);
        break;
      default:
        return arrow::Status::NotImplemented("hashing key columns of type ",
                                             column->type()->ToString(),
                                             " (group, join or repartition keys must be "
                                             "numbers, strings, binary, dates or times)");
    }
  }
  return arrow::Status::OK();
}

}  // namespace sluice::compute
