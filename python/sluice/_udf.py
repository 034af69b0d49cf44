"""Glue between the engine and Python user functions.

The engine hands a batch over as Arrow C Data Interface capsules; this module converts it
to the requested batch format (pyarrow / pandas / numpy), calls the user's function and
converts the result back. Nothing here is per-row except the row-predicate adapter that
Ray's ``filter(fn)`` semantics require.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Optional

import numpy as np
import pandas as pd
import pyarrow as pa

from . import _field_names

BATCH_FORMATS = ("pandas", "pyarrow", "numpy", "default")


def describe(fn: Any) -> str:
    """A short name for a user function, used in explain(), stats() and errors."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if name is None:
        name = type(fn).__qualname__
    return name


def check_batch_format(batch_format: str) -> str:
    if batch_format not in BATCH_FORMATS:
        raise ValueError(
            f"batch_format must be one of {', '.join(BATCH_FORMATS)}; got {batch_format!r}")
    return "numpy" if batch_format == "default" else batch_format


def to_batch_format(batch: pa.RecordBatch, batch_format: str) -> Any:
    if batch_format == "pyarrow":
        return pa.Table.from_batches([batch])
    if batch_format == "pandas":
        return batch.to_pandas()
    if batch_format == "numpy":
        return {name: column.to_numpy(zero_copy_only=False)
                for name, column in zip(batch.schema.names, batch.columns)}
    raise ValueError(f"unknown batch_format {batch_format!r}")


def table_to_batch(table: pa.Table) -> pa.RecordBatch:
    """All rows of a table as one RecordBatch (a table may hold several chunks)."""
    batches = table.to_batches()
    if not batches:
        return pa.RecordBatch.from_pylist([], schema=table.schema)
    return batches[0] if len(batches) == 1 else pa.concat_batches(batches)


def to_record_batch(value: Any, fn_name: str) -> pa.RecordBatch:
    """Converts what a user function returned into one RecordBatch."""
    if isinstance(value, pa.RecordBatch):
        return value
    if isinstance(value, pa.Table):
        return table_to_batch(value)
    if isinstance(value, pd.DataFrame):
        table = pa.Table.from_pandas(value, preserve_index=False)
        return to_record_batch(table, fn_name)
    if isinstance(value, dict):
        columns = {}
        for key, column in value.items():
            if isinstance(column, np.ndarray) and column.ndim > 1:
                column = list(column)
            columns[key] = column
        return to_record_batch(pa.table(columns), fn_name)
    if hasattr(value, "__arrow_c_array__"):
        return pa.record_batch(value)
    if hasattr(value, "__arrow_c_stream__"):
        return to_record_batch(pa.table(value), fn_name)
    raise TypeError(
        f"{fn_name} returned {type(value).__name__}; a batch function must return a "
        "pandas DataFrame, a pyarrow Table or RecordBatch, or a dict of column arrays")


def import_batch(schema_capsule: Any, array_capsule: Any) -> pa.RecordBatch:
    return _field_names.restore_batch(
        pa.RecordBatch._import_from_c_capsule(schema_capsule, array_capsule))


def export_batch(batch: pa.RecordBatch) -> tuple:
    return _field_names.carry_batch(batch).__arrow_c_array__()


def batch_factory(fn: Any, batch_format: str, fn_args: tuple, fn_kwargs: dict,
                  constructor_args: tuple, constructor_kwargs: dict) -> Callable[[], Callable]:
    """A zero-argument factory the engine calls once per actor (class UDFs) or once per
    execution (plain functions); it returns the per-batch callable the engine invokes."""
    is_class = inspect.isclass(fn)
    name = describe(fn)

    def make() -> Callable:
        target = fn(*constructor_args, **constructor_kwargs) if is_class else fn

        def call(schema_capsule: Any, array_capsule: Any) -> tuple:
            batch = import_batch(schema_capsule, array_capsule)
            result = target(to_batch_format(batch, batch_format), *fn_args, **fn_kwargs)
            return export_batch(to_record_batch(result, name))

        return call

    return make


def row_filter_factory(predicate: Callable[[dict], Any]) -> Callable[[], Callable]:
    """Ray's ``filter(fn)``: fn gets each row as a dict and returns a bool."""
    name = describe(predicate)

    def make() -> Callable:
        def call(schema_capsule: Any, array_capsule: Any) -> tuple:
            batch = import_batch(schema_capsule, array_capsule)
            keep = []
            for row in batch.to_pylist():
                verdict = predicate(row)
                if not isinstance(verdict, (bool, np.bool_)):
                    raise TypeError(
                        f"filter function {name} must return a bool for each row, "
                        f"got {type(verdict).__name__} for row {row!r}")
                keep.append(bool(verdict))
            return export_batch(batch.filter(pa.array(keep, type=pa.bool_())))

        return call

    return make


def row_map_factory(fn: Callable[[dict], dict]) -> Callable[[], Callable]:
    """Ray's ``map(fn)``: fn takes a row dict and returns a row dict."""
    name = describe(fn)

    def make() -> Callable:
        def call(schema_capsule: Any, array_capsule: Any) -> tuple:
            batch = import_batch(schema_capsule, array_capsule)
            rows = []
            for row in batch.to_pylist():
                out = fn(row)
                if not isinstance(out, dict):
                    raise TypeError(f"map function {name} must return a dict, got "
                                    f"{type(out).__name__}")
                rows.append(out)
            return export_batch(to_record_batch(pa.Table.from_pylist(rows), name))

        return call

    return make


def add_column_factory(column: str, fn: Callable, batch_format: str) -> Callable[[], Callable]:
    """Ray's ``add_column(name, fn)``: fn gets a batch and returns the new column."""
    name = describe(fn)

    def make() -> Callable:
        def call(schema_capsule: Any, array_capsule: Any) -> tuple:
            batch = import_batch(schema_capsule, array_capsule)
            values = fn(to_batch_format(batch, batch_format))
            if isinstance(values, pd.Series):
                array = pa.Array.from_pandas(values)
            elif isinstance(values, (pa.Array, pa.ChunkedArray)):
                array = values
            else:
                array = pa.array(np.asarray(values) if not isinstance(values, list) else values)
            if isinstance(array, pa.ChunkedArray):
                array = array.combine_chunks()
            if len(array) != batch.num_rows:
                raise ValueError(
                    f"add_column({column!r}): {name} returned {len(array)} values for a batch "
                    f"of {batch.num_rows} rows")
            names = batch.schema.names
            if column in names:
                batch = batch.set_column(names.index(column), column, array)
            else:
                batch = batch.append_column(column, array)
            return export_batch(batch)

        return call

    return make


class ActorPoolStrategy:
    """Run a callable class on a pool of actors, each constructed once.

    ``ActorPoolStrategy(size=4)`` or ``ActorPoolStrategy(min_size=1, max_size=8)``. In
    Sluice an actor is an instance of the class owned by the engine; each runs one batch
    at a time.
    """

    def __init__(self, min_size: Optional[int] = None, max_size: Optional[int] = None,
                 size: Optional[int] = None):
        if size is not None:
            if min_size is not None or max_size is not None:
                raise ValueError("give either size or min_size/max_size, not both")
            min_size = max_size = size
        min_size = 1 if min_size is None else min_size
        if max_size is None:
            max_size = max(min_size, 1)
        if min_size < 1 or max_size < min_size:
            raise ValueError(
                f"ActorPoolStrategy needs 1 <= min_size <= max_size, got {min_size}, {max_size}")
        self.min_size = int(min_size)
        self.max_size = int(max_size)

    def __repr__(self) -> str:
        return f"ActorPoolStrategy(min_size={self.min_size}, max_size={self.max_size})"
