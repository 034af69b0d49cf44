// Compiles engine_pch.h once (the sluice_pch target); every engine, test and CLI target
// reuses that precompiled header.
