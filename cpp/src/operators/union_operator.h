#pragma once

#include <vector>

#include "core/batch_stream.h"

namespace sluice::operators {

/// The tasks of each input in turn: the first input's rows, then the second's.
arrow::Result<std::unique_ptr<exec::TaskSource>> MakeUnionTaskSource(
    std::vector<std::unique_ptr<exec::TaskSource>> inputs);

}  // namespace sluice::operators
