// Little-endian encoding of scalars and flat arrays, for the binary formats Sentinel writes
// (spectrum store, fragment index). On a little-endian host arrays are copied as one block,
// since their memory image already is the encoding.
//
// REQUIRES: T is an unsigned integer or float. GetScalar/GetArray read exactly
// sizeof(T) * n bytes at p; the caller has checked that they are there.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace sentinel::little_endian {

template <typename T>
void PutScalar(std::string* out, T value) {
  if constexpr (std::is_same_v<T, float>) {
    PutScalar(out, std::bit_cast<std::uint32_t>(value));
  } else {
    static_assert(std::is_unsigned_v<T>);
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      out->push_back(static_cast<char>(static_cast<unsigned char>(value >> (8 * i))));
    }
  }
}

template <typename T>
T GetScalar(const char* p) {
  if constexpr (std::is_same_v<T, float>) {
    return std::bit_cast<float>(GetScalar<std::uint32_t>(p));
  } else {
    static_assert(std::is_unsigned_v<T>);
    T value = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      value |= static_cast<T>(static_cast<T>(static_cast<unsigned char>(p[i])) << (8 * i));
    }
    return value;
  }
}

template <typename T>
void PutArray(std::string* out, const std::vector<T>& values) {
  if constexpr (std::endian::native == std::endian::little) {
    const std::size_t at = out->size();
    out->resize(at + values.size() * sizeof(T));
    if (!values.empty()) std::memcpy(out->data() + at, values.data(), values.size() * sizeof(T));
  } else {
    for (const T& v : values) PutScalar(out, v);
  }
}

template <typename T>
void GetArray(const char* p, std::size_t n, std::vector<T>* values) {
  values->resize(n);
  if constexpr (std::endian::native == std::endian::little) {
    if (n > 0) std::memcpy(values->data(), p, n * sizeof(T));
  } else {
    for (std::size_t i = 0; i < n; ++i) (*values)[i] = GetScalar<T>(p + i * sizeof(T));
  }
}

}  // namespace sentinel::little_endian
