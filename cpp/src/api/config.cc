#include "sluice/config.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "runtime/session_state.h"
#include "storage/filesystems.h"

namespace sluice {

arrow::Status Configure(const EngineConfig& config) {
  return exec::SessionState::Default()->Configure(config);
}

EngineConfig CurrentConfig() { return exec::SessionState::Default()->config(); }

void ReleaseProcessResources() { io::FinalizeFileSystems(); }


}  // namespace sluice
