"""Readers: ``read_parquet``, ``read_csv``, ``read_json``, ``read_text``."""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Sequence, Union

import pyarrow as pa

from . import _sluice
from .dataset import Dataset
from .expressions import Expr
from .session import _native_session

PathArg = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]]


def _paths(paths: PathArg) -> List[str]:
    if isinstance(paths, (str, os.PathLike)):
        return [os.fspath(paths)]
    out = [os.fspath(p) for p in paths]
    if not out:
        raise ValueError("no paths given")
    return out


def read_parquet(paths: PathArg, *, columns: Optional[Sequence[str]] = None,
                 filter: Optional[Union[Expr, str]] = None, partitioning: Optional[str] = "hive",
                 follow_symlinks: bool = False, **_ray_only: Any) -> Dataset:
    """Parquet files, directories or globs. ``key=value`` directories become columns
    (``partitioning=None`` turns that off). ``columns`` and ``filter`` are pushed into
    the reader: only those columns are decoded, and row groups and partitions the filter
    excludes are skipped.

    Symbolic links inside a directory read are followed (a loop is entered once, a file
    reached twice is read once); a link leading out of it is an error unless
    ``follow_symlinks=True`` (the same for every reader)."""
    _reject_unknown("read_parquet", _ray_only)
    if isinstance(filter, str):
        from ._expr_parser import parse_filter
        filter = parse_filter(filter)
    if filter is not None and not isinstance(filter, Expr):
        raise TypeError("read_parquet(filter=...) takes an expression such as "
                        "sl.col('year') == 2015")
    if partitioning not in ("hive", None):
        raise ValueError(f"partitioning must be 'hive' or None, got {partitioning!r}")
    return Dataset(_sluice.read_parquet(_paths(paths), list(columns or []),
                                        filter._expr if filter is not None else None,
                                        partitioning == "hive", follow_symlinks,
                                        session=_native_session()))


def read_csv(paths: PathArg, *, delimiter: Optional[str] = None, header: bool = True,
             column_names: Optional[Sequence[str]] = None, skip_rows: int = 0,
             column_types: Optional[Dict[str, Any]] = None,
             null_values: Optional[Sequence[str]] = None, include_paths: bool = False,
             quote_char: Optional[str] = '"', newlines_in_values: bool = False,
             block_size: Optional[int] = None, empty_as_null: bool = True,
             encoding_errors: str = "strict", on_bad_lines: str = "error",
             parse_options: Any = None, read_options: Any = None,
             convert_options: Any = None, follow_symlinks: bool = False,
             **_ray_only: Any) -> Dataset:
    """CSV files (TSV with ``delimiter="\\t"``); ``.gz``, ``.zst``, ``.bz2`` and ``.lz4``
    are decompressed by file name. Types are inferred from the first file and then held
    for all files; a value that does not fit raises an error naming file, line and column.
    pyarrow.csv ``parse_options``/``read_options``/``convert_options`` are honoured for
    their common fields, so Ray Data jobs port unchanged.

    ``empty_as_null``: empty fields (and ``null_values``) read as null in every column,
    strings included, as in DuckDB and Spark; ``False`` keeps them as ``''`` in string
    columns. ``block_size``: bytes parsed at a time (default up to 4 MiB); a row must fit
    in one block. ``encoding_errors``: ``"strict"`` (a record that is not UTF-8 is a bad
    record) or ``"replace"`` (invalid bytes read as U+FFFD). ``on_bad_lines``: what to do
    with a bad record -- a row with the wrong number of fields, a value that does not
    convert to its column's type, invalid UTF-8: ``"error"`` (fail, naming file and
    line), ``"skip"`` (drop it) or ``"collect"`` (drop it and keep it for
    ``Dataset.rejects()``). With ``"skip"``/``"collect"`` every column is converted
    whichever are selected, so the same rows are dropped by every query; counts are in
    ``stats_dict()["bad_records_skipped"]``/``["bad_records_collected"]``."""
    _reject_unknown("read_csv", _ray_only)
    if parse_options is not None:
        delimiter = delimiter or parse_options.delimiter
        quote_char = parse_options.quote_char if parse_options.quote_char else ""
        newlines_in_values = newlines_in_values or parse_options.newlines_in_values
    if read_options is not None:
        if read_options.column_names:
            column_names = list(read_options.column_names)
            header = False
        if read_options.autogenerate_column_names:
            header = False
        skip_rows = skip_rows or read_options.skip_rows
    if convert_options is not None:
        if convert_options.column_types:
            column_types = dict(column_types or {})
            for field in convert_options.column_types:
                column_types.setdefault(field.name, field.type)
        if convert_options.null_values and null_values is None:
            null_values = list(convert_options.null_values)
    types = {}
    for name, type_ in (column_types or {}).items():
        type_ = pa.type_for_alias(type_) if isinstance(type_, str) else type_
        types[name] = type_.__arrow_c_schema__()
    return Dataset(_sluice.read_csv(
        _paths(paths), delimiter or ",", header, list(column_names or []), int(skip_rows),
        types, list(null_values or []), include_paths, quote_char or "", newlines_in_values,
        _block_size(block_size, read_options), empty_as_null, encoding_errors, on_bad_lines,
        follow_symlinks, session=_native_session()))


def _block_size(block_size: Optional[int], read_options: Any = None) -> int:
    if block_size is None and read_options is not None:
        block_size = getattr(read_options, "block_size", None)
    if block_size is None:
        return 0
    if not isinstance(block_size, int) or block_size <= 0 or block_size >= 2**31:
        raise ValueError(f"block_size must be a positive number of bytes below 2 GiB, "
                         f"got {block_size!r}")
    return block_size


def read_json(paths: PathArg, *, schema: Optional[pa.Schema] = None,
              include_paths: bool = False, lines: bool = True,
              block_size: Optional[int] = None, encoding_errors: str = "strict",
              on_bad_lines: str = "error", follow_symlinks: bool = False,
              **_ray_only: Any) -> Dataset:
    """JSON lines files (one object per line), compressed or not. Values nested deeper
    than 1,000 levels are refused (before Arrow's recursive parser sees them).

    ``block_size``: bytes parsed at a time (default up to 8 MiB); a line must fit in one
    block. ``encoding_errors``: ``"strict"`` or ``"replace"`` (U+FFFD), as in
    ``read_csv``. ``on_bad_lines``: ``"error"`` (fail, naming file and line), ``"skip"``
    or ``"collect"`` (keep them for ``Dataset.rejects()``); bad lines are lines that are
    not one JSON object, invalid JSON, values that do not fit the schema (or fields
    outside an inferred one), invalid UTF-8, nesting too deep. With ``"skip"`` and
    ``"collect"`` each line is one record."""
    _reject_unknown("read_json", _ray_only)
    if not lines:
        raise NotImplementedError("only JSON lines (one object per line) is supported")
    capsule = schema.__arrow_c_schema__() if schema is not None else None
    return Dataset(_sluice.read_json(_paths(paths), capsule, include_paths,
                                     _block_size(block_size), encoding_errors, on_bad_lines,
                                     follow_symlinks, session=_native_session()))


def read_text(paths: PathArg, *, include_paths: bool = False, drop_empty_lines: bool = True,
              encoding: str = "utf-8", encoding_errors: str = "strict",
              follow_symlinks: bool = False, **_ray_only: Any) -> Dataset:
    """One row per line, in column ``text`` (plus ``path`` with ``include_paths``). A line
    that is not UTF-8 fails naming its line, or with ``encoding_errors="replace"`` reads
    with U+FFFD in place of the invalid bytes."""
    _reject_unknown("read_text", _ray_only)
    if encoding.lower().replace("-", "") != "utf8":
        raise NotImplementedError("read_text reads UTF-8 only")
    return Dataset(_sluice.read_text(_paths(paths), include_paths, drop_empty_lines,
                                     encoding_errors, follow_symlinks,
                                     session=_native_session()))


# Ray options that change nothing on one machine are accepted; anything else is an error
# rather than silently ignored.
_IGNORED_RAY_OPTIONS = {"parallelism", "override_num_blocks", "ray_remote_args",
                        "concurrency", "shuffle", "file_extensions", "filesystem",
                        "meta_provider", "partition_filter", "arrow_open_stream_args",
                        "ignore_missing_paths"}


def _reject_unknown(fn: str, options: Dict[str, Any]) -> None:
    unknown = sorted(set(options) - _IGNORED_RAY_OPTIONS)
    if unknown:
        raise TypeError(f"{fn}() got unexpected keyword argument(s): {', '.join(unknown)}")
    if options.get("ignore_missing_paths"):
        raise NotImplementedError(f"{fn}(ignore_missing_paths=True) is not supported")


def vacuum(path: Union[str, os.PathLike], *, retention_hours: float = 24) -> Dict[str, Any]:
    """Removes what failed or killed writes left in a directory written by Sluice: their
    staging directories and data files no committed snapshot lists. Writes on this host
    count as dead once their process is gone, writes on other hosts after
    ``retention_hours``. Every write does this for its target anyway; returns what was
    removed (``removed_staging_dirs``, ``removed_files``, ``removed_bytes``)."""
    if retention_hours < 0:
        raise ValueError(f"retention_hours must not be negative, got {retention_hours}")
    return dict(_sluice.vacuum(os.fspath(path), int(retention_hours * 3600)))


def read_table(name: str, *, filter: Optional[Union[Expr, str]] = None,
               columns: Optional[Sequence[str]] = None) -> Dataset:
    """A catalog table (``"database.table"``). Partitions the filter rules out are pruned
    from the catalog before any file is opened; the rest of the filter applies to rows.
    A string filter is SQL-style: ``"year = 2015 AND marketplace IN ('US','UK')"``."""
    from .catalog import _filter
    return Dataset(_sluice.read_table(name, _filter(filter), list(columns or []),
                                      session=_native_session()))
