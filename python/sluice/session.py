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

import atexit
import contextvars
import os
from typing import Any, Callable, Dict, List, Optional, Union

from . import _sluice
from .config import _settings

_current: contextvars.ContextVar[Optional["Session"]] = contextvars.ContextVar(
    "sluice_session", default=None)
# The sessions that `with` blocks replaced, innermost last: kept in the context itself, so
# threads and asyncio tasks (each with a context of its own) nest independently.
_replaced: contextvars.ContextVar[tuple] = contextvars.ContextVar("sluice_replaced", default=())
# [session id, callback, native session, native listener] of add_listener. Callbacks are
# compared with ==: `events.append` is a new object each time it is written.
_listeners: List[list] = []


def _find_listener(session_id: int, callback: Callable) -> Optional[list]:
    return next((entry for entry in _listeners
                 if entry[0] == session_id and entry[1] == callback), None)


def _stop_all_listeners() -> None:
    # Before the interpreter goes away: each listener's thread needs the GIL to deliver.
    while _listeners:
        entry = _listeners.pop()
        _sluice.remove_event_listener(entry[2], entry[3])


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
                 catalog: Union[str, "os.PathLike[str]", None] = None,
                 log: Optional[str] = None) -> None:
        self._native = _sluice.Session.make(**_settings(
            memory_limit=memory_limit, num_threads=num_threads, batch_rows=batch_rows,
            progress=progress, spill_dir=spill_dir, s3_endpoint=s3_endpoint,
            s3_region=s3_region, s3_scheme=s3_scheme, catalog=catalog, log=log))

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

    def add_listener(self, callback: Callable[[Dict[str, Any]], None], *,
                     progress: bool = True) -> Callable[[Dict[str, Any]], None]:
        """Call ``callback(event)`` for every event of the jobs this session starts from
        now on, and its warnings (docs/events.md): a dict with "event"
        ("execution_started", "operator_started", "progress", "operator_finished",
        "warning", "execution_finished"), "session", "execution", "time", "seconds" and
        the event's figures, as in the JSON lines log. Callbacks run in order on one
        thread of their own, never on the engine's workers, so a slow callback delays
        only later callbacks; an exception in one is reported as unraisable and the
        rest keep coming. ``progress=False`` leaves out the progress ticks. Returns
        ``callback`` (usable as a decorator)."""
        import json

        if _find_listener(self.id, callback) is not None:
            raise ValueError(f"{callback!r} already listens to session {self.id}")
        handle = _sluice.add_event_listener(
            self._native, lambda line: callback(json.loads(line)), progress)
        if not _listeners:
            atexit.register(_stop_all_listeners)
        _listeners.append([self.id, callback, self._native, handle])
        return callback

    def remove_listener(self, callback: Callable[[Dict[str, Any]], None]) -> None:
        """Stop calling ``callback``, once it has got the events already sent to it (so
        after a job returns, removing its listener delivers all of the job's events)."""
        entry = _find_listener(self.id, callback)
        if entry is None:
            raise ValueError(f"{callback!r} does not listen to session {self.id}")
        _listeners.remove(entry)
        _sluice.remove_event_listener(entry[2], entry[3])

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
