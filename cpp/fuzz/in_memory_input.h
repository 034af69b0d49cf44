#pragma once

// Fuzz inputs as files that Sluice's readers open by path, without touching a disk: one
// in-memory filesystem behind the URI scheme "fuzzmem", registered with Arrow, so an input
// goes through ListFiles, the filesystem lookup and the reader exactly as a user's file.

#include <arrow/filesystem/filesystem.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace sluice::fuzz {

/// Makes `bytes` the only file, named `name`, of the in-memory filesystem and returns its
/// URI ("fuzzmem:///<name>"). Streams opened on it return at most `max_read_bytes` per
/// Read (0: no limit) — streams may return less than asked — so code that joins a line
/// or a gzip member across reads runs on inputs far smaller than its read size.
std::string PutInputFile(std::string_view bytes, const std::string& name, int64_t max_read_bytes);

/// The filesystem PutInputFile last filled; its file is at path `name`.
std::shared_ptr<arrow::fs::FileSystem> InputFileSystem();

/// A stream over `input` whose reads return at most `max_read_bytes`, as a pipe or a
/// network stream may.
std::shared_ptr<arrow::io::InputStream> WithShortReads(std::shared_ptr<arrow::io::InputStream> input,
                                                       int64_t max_read_bytes);

}  // namespace sluice::fuzz
