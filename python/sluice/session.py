"""Sessions: settings, a memory budget, statistics and cancellation of their own.

    with sl.Session(memory_limit="1GB", spill_dir="/scratch") as s:
        ds = sl.read_parquet("reviews/")      # made in s, runs in s
        ds.write_parquet("out/")
    s.stats()                                 # this session's figures only

Every dataset remembers the session it was made in and runs there, also outside the
``with`` block and from other threads. Datasets of different sessions cannot be joined or
unioned. Calls outside any ``with`` block use the default session, which ``sl.configure``
and the SLUICE_* environment variables set.
"""

from __future__ import annotations

import contextvars
import os
from typing import Any, Callable, Dict, Optional, Union

from . import _sluice
from .config import _settings

_current: contextvars.ContextVar[Optional["Session"]] = contextvars.ContextVar(
    "sluice_session", default=None)
# The sessions that `with` blocks replaced, innermost last: kept in the context itself, so
# threads and asyncio tasks (each with a context of its own) nest independently.
_replaced: contextvars.ContextVar[tuple] = contextvars.ContextVar("sluice_replaced", default=())


class Session:
    """A session with its own settings (``sl.configure``'s, unset ones take their
    defaults, not the default session's), memory budget, statistics and cancellation.
    Use it as a context manager to make datasets in it, or call its readers."""

    def __init__(self, *, memory_limit: Union[int, str, None] = None,
                 num_threads: Optional[int] = None, batch_rows: Optional[int] = None,
                 progress: Optional[bool] = None,
                 spill_dir: Union[str, "os.PathLike[str]", None] = None,
                 s3_endpoint: Optional[str] = None, s3_region: Optional[str] = None,
                 s3_scheme: Optional[str] = None,
                 catalog: Union[str, "os.PathLike[str]", None] = None) -> None:
        self._native = _sluice.Session.make(**_settings(
            memory_limit=memory_limit, num_threads=num_threads, batch_rows=batch_rows,
            progress=progress, spill_dir=spill_dir, s3_endpoint=s3_endpoint,
            s3_region=s3_region, s3_scheme=s3_scheme, catalog=catalog))

    @classmethod
    def default(cls) -> "Session":
        """The default session (the one ``sl.configure`` sets)."""
        session = cls.__new__(cls)
        session._native = _sluice.Session.default()
        return session

    @property
    def id(self) -> int:
        return self._native.id

    def configure(self, **settings: Any) -> None:
        """Change settings (the names of ``sl.configure``); running jobs keep theirs."""
        self._native.configure(**_settings(**settings))

    def config(self) -> Dict[str, Any]:
        """The settings in force, defaults resolved."""
        return dict(self._native.config())

    def stats(self) -> Dict[str, Any]:
        """Totals since the session was made: executions started, running and failed,
        operator time, rows delivered, spilled bytes, bad records, and memory now, at
        most and its limit. Never includes another session's figures."""
        return dict(self._native.stats())

    def stats_text(self) -> str:
        return self._native.stats_text()

    def cancel(self) -> None:
        """Cancel every job running in this session now: each raises
        ``sluice.errors.SluiceCancelled`` (a write leaves its target as it was). Other
        sessions and later jobs are not affected."""
        self._native.cancel()

    def __enter__(self) -> "Session":
        _replaced.set(_replaced.get() + (_current.get(),))
        _current.set(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        replaced = _replaced.get()
        _replaced.set(replaced[:-1])
        _current.set(replaced[-1])

    def __repr__(self) -> str:
        config = self.config()
        return (f"Session(id={self.id}, memory_limit={config['memory_limit_bytes']}, "
                f"num_threads={config['num_threads']})")

    # Readers and constructors made in this session, so `s.read_parquet(...)` works
    # without a `with` block.
    def _in_session(name: str) -> Callable[..., Any]:  # type: ignore[misc]
        def call(self: "Session", *args: Any, **kwargs: Any) -> Any:
            import sluice
            token = _current.set(self)
            try:
                return getattr(sluice, name)(*args, **kwargs)
            finally:
                _current.reset(token)
        call.__name__ = name
        call.__doc__ = f"``sl.{name}`` in this session."
        return call

    read_parquet = _in_session("read_parquet")
    read_csv = _in_session("read_csv")
    read_json = _in_session("read_json")
    read_text = _in_session("read_text")
    read_table = _in_session("read_table")
    range = _in_session("range")
    from_arrow = _in_session("from_arrow")
    from_items = _in_session("from_items")
    from_pandas = _in_session("from_pandas")
    from_numpy = _in_session("from_numpy")
    del _in_session


def current_session() -> Session:
    """The session of the innermost ``with sl.Session(...)`` block, else the default one."""
    session = _current.get()
    return session if session is not None else Session.default()


def _native_session() -> Optional[Any]:
    """The engine's handle of the session in effect; None for the default session."""
    session = _current.get()
    return session._native if session is not None else None
