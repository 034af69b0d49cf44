#pragma once

/// Sluice's C++ API: read, transform and write datasets on the streaming engine.
/// Call arrow::compute::Initialize() once at start-up in standalone programs.

#include "sluice/catalog.h"
#include "sluice/config.h"
#include "sluice/dataset.h"
#include "sluice/events.h"
#include "sluice/expression.h"
#include "sluice/formats.h"
#include "sluice/listing.h"
#include "sluice/fragments.h"
#include "sluice/options.h"
#include "sluice/session.h"
#include "sluice/udf.h"
#include "sluice/vacuum.h"
