#pragma once

// Checks on JSON lines that Arrow's JSON reader does not make. Its parser (RapidJSON)
// recurses once per nesting level, so deeply nested input overflows the stack (depth
// 18,000 crashed) and is slow well before that: nesting is measured here, in linear
// time, and refused beyond kMaxJsonNestingDepth. Strings must be UTF-8, which Arrow does
// not check either.

#include <arrow/memory_pool.h>

#include <memory>
#include <string>
#include <string_view>

#include "formats/bad_records.h"
#include "storage/screened_input_stream.h"
#include "sluice/options.h"

namespace sluice::io {

/// The screen in front of Arrow's JSON reader when bad lines are errors. Nesting is
/// followed across lines (an object may span lines within a block), invalid UTF-8 fails
/// naming its line or is replaced with U+FFFD (EncodingErrors::kReplace).
std::unique_ptr<RecordScreen> MakeJsonLinesScreen(EncodingErrors encoding_errors, int max_depth,
                                                  arrow::MemoryPool* pool);

/// The screen in front of the line-by-line JSON reader (bad lines skipped or collected):
/// each line must be one object on its own (JsonLineDefect) and UTF-8 (or is repaired
/// with EncodingErrors::kReplace). A bad line goes to `sink` and reaches the reader as an
/// empty line, so the reader's line count stays the file's.
std::unique_ptr<RecordScreen> MakeJsonRecordScreen(EncodingErrors encoding_errors, int max_depth,
                                                   std::shared_ptr<BadRecordSink> sink,
                                                   arrow::MemoryPool* pool);

/// Whether a line holds nothing but JSON whitespace (Arrow skips such lines).
bool IsBlankJsonLine(std::string_view line);

/// Why `line` (valid UTF-8, no line break) cannot be one record of a JSON lines file on
/// its own, or "" when it may be: it must hold one object, complete, nested at most
/// `max_depth` deep. Whether the object is valid JSON is left to the parser.
std::string JsonLineDefect(std::string_view line, int max_depth);

}  // namespace sluice::io
