// Precompiled header for the engine: the Arrow headers nearly every translation unit
// includes. Keep it to stable third-party headers so edits to Sluice don't invalidate it.
#pragma once
#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <arrow/compute/expression.h>
#include <arrow/result.h>
#include <arrow/status.h>
#include <arrow/type.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>
