"""Process-wide engine settings: ``sl.configure(memory_limit="2GB", num_threads=8)``.

Environment variables set the defaults: SLUICE_MEMORY_LIMIT, SLUICE_NUM_THREADS,
SLUICE_BATCH_ROWS, SLUICE_SPILL_DIR, SLUICE_PROGRESS (0 turns the progress line off).
"""

from __future__ import annotations

import os
from typing import Any, Dict, Optional, Union

from . import _sluice


def _bytes(value: Union[int, str]) -> int:
    if isinstance(value, int):
        return value
    return _sluice.parse_byte_size(str(value))


def configure(*, memory_limit: Union[int, str, None] = None, num_threads: Optional[int] = None,
              batch_rows: Optional[int] = None, progress: Optional[bool] = None,
              spill_dir: Union[str, "os.PathLike[str]", None] = None) -> None:
    """Set the memory budget (bytes or "2GB"), worker threads per pipeline, rows per
    batch, whether to draw a progress line on a terminal, and the directory where
    operators that outgrow the budget spill (default $TMPDIR or /tmp). Unset values are
    kept."""
    _sluice.configure(num_threads=num_threads,
                      memory_limit_bytes=_bytes(memory_limit) if memory_limit is not None else None,
                      batch_rows=batch_rows, progress=progress,
                      spill_dir=os.fspath(spill_dir) if spill_dir is not None else None)


def current_config() -> Dict[str, Any]:
    return dict(_sluice.current_config())


def _configure_from_environment() -> None:
    env = os.environ
    configure(
        memory_limit=env.get("SLUICE_MEMORY_LIMIT") or None,
        num_threads=int(env["SLUICE_NUM_THREADS"]) if env.get("SLUICE_NUM_THREADS") else None,
        batch_rows=int(env["SLUICE_BATCH_ROWS"]) if env.get("SLUICE_BATCH_ROWS") else None,
        spill_dir=env.get("SLUICE_SPILL_DIR") or None,
        progress=(env["SLUICE_PROGRESS"] not in ("0", "false", "no"))
        if env.get("SLUICE_PROGRESS") else None,
    )
