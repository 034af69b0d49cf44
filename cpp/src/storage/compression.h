#pragma once

// Transparent decompression for the line-oriented readers (CSV, JSON lines, text): the
// codec follows the file name, and the stream they read is already decompressed.

#include <arrow/filesystem/filesystem.h>
#include <arrow/io/interfaces.h>
#include <arrow/memory_pool.h>
#include <arrow/result.h>
#include <arrow/util/type_fwd.h>

#include <memory>
#include <string>

namespace sluice::io {

/// The codec implied by the file name's extension: .gz/.gzip -> GZIP, .zst/.zstd -> ZSTD,
/// .bz2 -> BZ2, .lz4 -> LZ4_FRAME; anything else -> UNCOMPRESSED. Case-insensitive.
arrow::Compression::type CompressionFromPath(const std::string& path);

/// Opens `file` for sequential reading, decompressing it when its name says it is
/// compressed. Errors name the file; a compressed file that ends before its codec's end
/// marker fails with IOError("<path>: truncated <codec> stream") instead of silently
/// yielding the data read so far.
arrow::Result<std::shared_ptr<arrow::io::InputStream>> OpenDecompressedInputStream(
    const std::shared_ptr<arrow::fs::FileSystem>& filesystem, const arrow::fs::FileInfo& file,
    arrow::MemoryPool* pool);

}  // namespace sluice::io
