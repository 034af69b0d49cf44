"""Engine settings of the default session: ``sl.configure(memory_limit="2GB", num_threads=8)``
(``sl.Session(...)`` makes another session with settings of its own).

Environment variables set the defaults: SLUICE_MEMORY_LIMIT, SLUICE_NUM_THREADS,
SLUICE_BATCH_ROWS, SLUICE_SPILL_DIR, SLUICE_PROGRESS (0 turns the progress line off),
SLUICE_S3_ENDPOINT, SLUICE_S3_REGION, SLUICE_S3_SCHEME, SLUICE_CATALOG, SLUICE_LOG
(json:PATH appends every execution event to PATH as JSON lines; docs/events.md).
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
              spill_dir: Union[str, "os.PathLike[str]", None] = None,
              s3_endpoint: Optional[str] = None, s3_region: Optional[str] = None,
              s3_scheme: Optional[str] = None,
              catalog: Union[str, "os.PathLike[str]", None] = None,
              log: Optional[str] = None) -> None:
    """Set the memory budget (bytes or "2GB"), worker threads per pipeline, rows per
    batch, whether to draw a progress line on a terminal, and the directory where
    operators that outgrow the budget spill (default $TMPDIR or /tmp).

    ``s3_endpoint`` ("host:port" or "http://host:port"), ``s3_region`` and ``s3_scheme``
    ("http"/"https") point s3:// paths at an S3-compatible server; credentials come from
    the AWS environment variables or profile. ``catalog`` is the SQLite file of the table
    catalog (default ~/.sluice/catalog.db). ``log="json:PATH"`` appends every execution
    event (docs/events.md) to PATH as one JSON object per line. Unset values are kept;
    "" resets a text setting to its default."""
    _sluice.configure(**_settings(
        memory_limit=memory_limit, num_threads=num_threads, batch_rows=batch_rows,
        progress=progress, spill_dir=spill_dir, s3_endpoint=s3_endpoint,
        s3_region=s3_region, s3_scheme=s3_scheme, catalog=catalog, log=log))


def _settings(*, memory_limit: Union[int, str, None] = None, num_threads: Optional[int] = None,
              batch_rows: Optional[int] = None, progress: Optional[bool] = None,
              spill_dir: Union[str, "os.PathLike[str]", None] = None,
              s3_endpoint: Optional[str] = None, s3_region: Optional[str] = None,
              s3_scheme: Optional[str] = None,
              catalog: Union[str, "os.PathLike[str]", None] = None,
              log: Optional[str] = None) -> Dict[str, Any]:
    """The engine's names for the settings given (None: keep)."""
    return dict(num_threads=num_threads,
                memory_limit_bytes=_bytes(memory_limit) if memory_limit is not None else None,
                batch_rows=batch_rows, progress=progress,
                spill_dir=os.fspath(spill_dir) if spill_dir is not None else None,
                s3_endpoint=s3_endpoint, s3_region=s3_region, s3_scheme=s3_scheme,
                catalog_path=os.fspath(catalog) if catalog is not None else None,
                log=log)


def current_config() -> Dict[str, Any]:
    """The settings of the session in effect (``with sl.Session(...)``, else the default
    session), defaults resolved."""
    from .session import _native_session
    native = _native_session()
    return dict(native.config() if native is not None else _sluice.current_config())


def _configure_from_environment() -> None:
    env = os.environ
    configure(
        memory_limit=env.get("SLUICE_MEMORY_LIMIT") or None,
        num_threads=int(env["SLUICE_NUM_THREADS"]) if env.get("SLUICE_NUM_THREADS") else None,
        batch_rows=int(env["SLUICE_BATCH_ROWS"]) if env.get("SLUICE_BATCH_ROWS") else None,
        spill_dir=env.get("SLUICE_SPILL_DIR") or None,
        s3_endpoint=env.get("SLUICE_S3_ENDPOINT") or None,
        s3_region=env.get("SLUICE_S3_REGION") or None,
        s3_scheme=env.get("SLUICE_S3_SCHEME") or None,
        catalog=env.get("SLUICE_CATALOG") or None,
        log=env.get("SLUICE_LOG") or None,
        progress=(env["SLUICE_PROGRESS"] not in ("0", "false", "no"))
        if env.get("SLUICE_PROGRESS") else None,
    )
