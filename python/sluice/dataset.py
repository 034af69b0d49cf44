"""The lazy Dataset, with method names a Ray Data user already knows."""

from __future__ import annotations

import inspect
import os
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Union

import pandas as pd
import pyarrow as pa

from . import _field_names
from . import _sluice
from . import _udf
from ._expr_parser import parse_filter
from .aggregate import AggregateFn, Count, Max, Mean, Min, Std, Sum
from .expressions import Expr

ExprOrFn = Union[Expr, Callable, str]


def _as_list(value: Union[str, Sequence[str]]) -> List[str]:
    return [value] if isinstance(value, str) else list(value)


# How join() spells its join types: Sluice's, then Ray Data's.
_JOIN_TYPES = ("inner", "left", "right", "outer", "full", "semi", "anti", "left_outer",
               "right_outer", "full_outer", "left_semi", "left_anti", "right_semi",
               "right_anti")


def _key_list(keys: Union[str, Sequence[str]], argument: str) -> List[str]:
    if not isinstance(keys, (str, list, tuple)):
        raise TypeError(f"join: {argument}= takes a column name or a list of them, got "
                        f"{type(keys).__name__}")
    names = _as_list(keys)
    if not names:
        raise ValueError(f"join: {argument}= names no columns")
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"join: {argument}= takes column names, got {name!r}")
    return names


class Dataset:
    """A lazy dataset. Transformations return new Datasets and run nothing; consuming
    calls (count, take, to_pandas, iter_batches, write_*) run the optimized plan on the
    C++ engine. A Dataset exposes ``__arrow_c_stream__``, so ``pa.table(ds)``,
    ``polars.from_arrow(ds)`` and DuckDB read it without copies."""

    def __init__(self, native: "_sluice.Dataset"):
        self._ds = native

    # ------------------------------------------------------------------ transforms
    def select_columns(self, cols: Union[str, Sequence[str]]) -> "Dataset":
        """Keep only ``cols``, in that order."""
        return Dataset(self._ds.select_columns(_as_list(cols)))

    def drop_columns(self, cols: Union[str, Sequence[str]]) -> "Dataset":
        return Dataset(self._ds.drop_columns(_as_list(cols)))

    def rename_columns(self, names: Union[Dict[str, str], Sequence[str]]) -> "Dataset":
        """Rename with a mapping ``{old: new}`` or a full list of new names."""
        if isinstance(names, dict):
            pairs = list(names.items())
        else:
            current = self.columns()
            names = list(names)
            if len(names) != len(current):
                raise ValueError(f"rename_columns got {len(names)} names for "
                                 f"{len(current)} columns {current}")
            pairs = list(zip(current, names))
        return Dataset(self._ds.rename_columns(pairs))

    def add_column(self, col: str, fn: Union[Expr, Callable], *,
                   batch_format: str = "pandas") -> "Dataset":
        """Add (or replace) column ``col``: a native expression, or ``fn(batch)`` returning
        the column for a batch (a pandas DataFrame by default, as in Ray Data)."""
        if isinstance(fn, Expr):
            return Dataset(self._ds.with_column(col, fn._expr))
        if not callable(fn):
            raise TypeError("add_column needs an expression or a function of a batch")
        fmt = _udf.check_batch_format(batch_format)
        factory = _udf.add_column_factory(col, fn, fmt)
        return Dataset(self._ds.map_batches(factory, f"AddColumn({col}={_udf.describe(fn)})"))

    with_column = add_column

    def filter(self, fn: Optional[ExprOrFn] = None, *, expr: Optional[Union[str, Expr]] = None
               ) -> "Dataset":
        """Keep rows where the predicate holds: a native expression (runs in C++ and is
        pushed into readers), filter text (SQL-style ``"year = 2015 AND stars IN (4, 5)"``
        or Python-style ``"total_votes > 0 and stars == 5"``, as every call that takes a
        filter), or ``fn(row) -> bool`` (a Python function over row dicts, as in Ray Data)."""
        predicate = expr if expr is not None else fn
        if predicate is None:
            raise TypeError("filter needs a function or an expression")
        if isinstance(predicate, str):
            predicate = parse_filter(predicate)
        if isinstance(predicate, Expr):
            return Dataset(self._ds.filter(predicate._expr))
        if not callable(predicate):
            raise TypeError(f"filter takes an expression or a function, got "
                            f"{type(predicate).__name__}")
        factory = _udf.row_filter_factory(predicate)
        return Dataset(self._ds.map_batches(factory, f"Filter({_udf.describe(predicate)})"))

    def map_batches(self, fn: Callable, *, batch_size: Union[int, None, str] = None,
                    compute: Optional[_udf.ActorPoolStrategy] = None,
                    batch_format: str = "pandas", fn_args: Iterable[Any] = (),
                    fn_kwargs: Optional[Dict[str, Any]] = None,
                    fn_constructor_args: Iterable[Any] = (),
                    fn_constructor_kwargs: Optional[Dict[str, Any]] = None,
                    concurrency: Union[int, tuple, None] = None) -> "Dataset":
        """Apply ``fn`` to batches. ``fn`` may be a function, or a callable class
        constructed once per actor (``compute=sl.ActorPoolStrategy(...)`` or
        ``concurrency=n``/``(min, max)``)."""
        if batch_size == "default":
            batch_size = None
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size <= 0):
            raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
        fmt = _udf.check_batch_format(batch_format)
        is_class = inspect.isclass(fn)
        if not is_class and not callable(fn):
            raise TypeError(f"map_batches needs a function or a callable class, got "
                            f"{type(fn).__name__}")
        if not is_class and (fn_constructor_args or fn_constructor_kwargs):
            raise ValueError("fn_constructor_args only apply to callable classes")
        min_actors = max_actors = 0
        if is_class:
            if compute is None:
                if isinstance(concurrency, tuple):
                    compute = _udf.ActorPoolStrategy(min_size=concurrency[0],
                                                     max_size=concurrency[1])
                elif isinstance(concurrency, int):
                    compute = _udf.ActorPoolStrategy(size=concurrency)
                else:
                    compute = _udf.ActorPoolStrategy(size=1)
            min_actors, max_actors = compute.min_size, compute.max_size
        elif compute is not None and not isinstance(compute, (str,)):
            raise ValueError("ActorPoolStrategy needs a callable class; a plain function "
                             "runs as stateless tasks")
        factory = _udf.batch_factory(fn, fmt, tuple(fn_args), dict(fn_kwargs or {}),
                                     tuple(fn_constructor_args),
                                     dict(fn_constructor_kwargs or {}))
        name = f"MapBatches({_udf.describe(fn)})"
        return Dataset(self._ds.map_batches(factory, name, batch_size=batch_size,
                                            min_actors=min_actors, max_actors=max_actors))

    def map(self, fn: Callable[[dict], dict]) -> "Dataset":
        """Apply ``fn`` to each row (a dict); it returns the new row."""
        factory = _udf.row_map_factory(fn)
        return Dataset(self._ds.map_batches(factory, f"Map({_udf.describe(fn)})"))

    def sort(self, key: Union[str, Sequence[str]], descending: Union[bool, Sequence[bool]] = False,
             *, nulls_first: bool = False) -> "Dataset":
        """Sort by one or more columns (stable; nulls last unless ``nulls_first``)."""
        keys = _as_list(key)
        if isinstance(descending, bool):
            flags = [descending] * len(keys)
        else:
            flags = list(descending)
            if len(flags) != len(keys):
                raise ValueError(f"sort got {len(keys)} keys but {len(flags)} descending flags")
        return Dataset(self._ds.sort([(k, bool(d), nulls_first) for k, d in zip(keys, flags)]))

    def groupby(self, key: Union[str, Sequence[str], None]) -> "GroupedData":
        return GroupedData(self, [] if key is None else _as_list(key))

    def aggregate(self, *aggs: AggregateFn) -> Dict[str, Any]:
        """Global aggregates; returns ``{name: value}``."""
        rows = GroupedData(self, []).aggregate(*aggs).take_all()
        return rows[0] if rows else {}

    def sum(self, on: Union[str, Sequence[str]]) -> Any:
        return self._global(Sum, on)

    def mean(self, on: Union[str, Sequence[str]]) -> Any:
        return self._global(Mean, on)

    def min(self, on: Union[str, Sequence[str]]) -> Any:
        return self._global(Min, on)

    def max(self, on: Union[str, Sequence[str]]) -> Any:
        return self._global(Max, on)

    def std(self, on: Union[str, Sequence[str]], ddof: int = 1) -> Any:
        if ddof != 1:
            raise ValueError("only ddof=1 (sample standard deviation) is supported")
        return self._global(Std, on)

    def _global(self, cls: type, on: Union[str, Sequence[str]]) -> Any:
        cols = _as_list(on)
        result = self.aggregate(*[cls(c) for c in cols])
        values = list(result.values())
        return values[0] if isinstance(on, str) else tuple(values)

    def unique(self, column: str) -> List[Any]:
        """Distinct values of ``column``, sorted (nulls last)."""
        return self.select_columns([column]).distinct().to_arrow().column(0).to_pylist()

    def distinct(self, subset: Union[str, Sequence[str], None] = None) -> "Dataset":
        """One row per distinct combination of the ``subset`` columns (all columns by
        default); the other columns come from the first row of each combination. Rows
        come out sorted by the subset. Runs within the memory budget, spilling to disk."""
        columns = [] if subset is None else _as_list(subset)
        return Dataset(self._ds.distinct(columns))

    def limit(self, limit: int) -> "Dataset":
        if not isinstance(limit, int) or limit < 0:
            raise ValueError(f"limit must be a non-negative int, got {limit!r}")
        return Dataset(self._ds.limit(limit))

    def repartition(self, num_blocks: int, *, shuffle: bool = False,
                    keys: Union[str, Sequence[str], None] = None) -> "Dataset":
        """Cut the rows, in order, into ``num_blocks`` blocks (a write produces one file
        per block). With ``keys``, block i holds the rows whose keys hash to i, so rows
        with equal keys share a block; that form spills to disk when it outgrows the
        memory budget."""
        if shuffle:
            raise NotImplementedError("repartition(shuffle=True) is not supported yet")
        return Dataset(self._ds.repartition(int(num_blocks), [] if keys is None else _as_list(keys)))

    def union(self, *others: "Dataset") -> "Dataset":
        if not others:
            return self
        for other in others:
            if not isinstance(other, Dataset):
                raise TypeError(f"union takes Datasets, got {type(other).__name__}")
        return Dataset(self._ds.union([o._ds for o in others]))

    def join(self, other: "Dataset", on: Union[str, Sequence[str], None] = None,
             how: str = "inner", *, left_on: Union[str, Sequence[str], None] = None,
             right_on: Union[str, Sequence[str], None] = None,
             suffix: str = "_right") -> "Dataset":
        """Join with ``other`` where the key columns are equal: ``on`` names keys both
        sides have, ``left_on``/``right_on`` pair keys of different names. ``how`` is
        ``inner``, ``left``, ``right``, ``outer`` (or ``full``), ``semi`` or ``anti``;
        Ray Data's ``left_outer``, ``right_outer``, ``full_outer``, ``left_semi``,
        ``left_anti``, ``right_semi`` and ``right_anti`` work too.

        As in SQL, null keys match nothing. The output has every column of this dataset,
        then those of ``other``; a key named by ``on`` appears once (for right and outer
        joins it holds ``other``'s key where this side has no row), and a column of
        ``other`` whose name this dataset already has gets ``suffix``. Semi and anti joins
        return this dataset's columns only. Rows come in no particular order.

        ``other`` is read whole into a hash table and this dataset streams past it, so
        put the smaller dataset on the right."""
        if not isinstance(other, Dataset):
            raise TypeError(f"join takes a Dataset, got {type(other).__name__}")
        if on is not None and (left_on is not None or right_on is not None):
            raise ValueError("join takes either on= or left_on= and right_on=, not both")
        if on is not None:
            left_keys = right_keys = _key_list(on, "on")
        elif left_on is not None and right_on is not None:
            left_keys, right_keys = _key_list(left_on, "left_on"), _key_list(right_on, "right_on")
        elif left_on is not None or right_on is not None:
            raise ValueError("join needs both left_on= and right_on=")
        else:
            raise ValueError("join needs key columns: on=, or left_on= and right_on=")
        if len(left_keys) != len(right_keys):
            raise ValueError(f"join got {len(left_keys)} left_on key(s) {left_keys} but "
                             f"{len(right_keys)} right_on key(s) {right_keys}")
        if not isinstance(how, str):
            raise TypeError(f"how must be a string, got {type(how).__name__}")
        if not isinstance(suffix, str):
            raise TypeError(f"suffix must be a string, got {type(suffix).__name__}")
        how = how.lower()
        if how in ("right_semi", "right_anti"):
            # The rows of `other` with (or without) a match: a left semi (anti) join with
            # the sides swapped.
            return other.join(self, how=how[len("right_"):], left_on=right_keys,
                              right_on=left_keys, suffix=suffix)
        if how not in _JOIN_TYPES:
            raise ValueError(f"unknown join type {how!r}; expected one of "
                             f"{', '.join(_JOIN_TYPES)}")
        return Dataset(self._ds.join(other._ds, left_keys, right_keys, how, suffix))

    def materialize(self) -> "Dataset":
        """Run the plan now and keep the result in memory."""
        return from_arrow(self.to_arrow())

    # ------------------------------------------------------------------ inspection
    def count(self) -> int:
        """Number of rows. Parquet answers from footers (files whose footer counts disagree
        with each other are read); after a native filter only the filter's columns are
        read."""
        return self._ds.count()

    def schema(self) -> pa.Schema:
        return _field_names.restore_schema(pa.Schema._import_from_c_capsule(self._ds.schema()))

    def columns(self) -> List[str]:
        return self.schema().names

    def size_bytes(self) -> int:
        """Estimated in-memory size in bytes (Parquet: from footers)."""
        return self._ds.size_bytes()

    def explain(self) -> None:
        """Print the logical and the optimized plan."""
        print(self._ds.explain())

    def explain_string(self) -> str:
        return self._ds.explain()

    def stats(self) -> str:
        """Rows, bytes and time per operator of the last execution of this Dataset."""
        return self._ds.stats_text()

    def stats_dict(self) -> Dict[str, Any]:
        return self._ds.stats()

    def rejects(self) -> "Dataset":
        """The bad records the last execution of this Dataset collected
        (``read_csv``/``read_json(..., on_bad_lines="collect")``), sorted by file and line:
        ``file``, ``line`` (physical line in the file, 1-based, header included),
        ``column`` (null when the record as a whole is bad), ``reason`` and ``record`` (its
        text; invalid UTF-8 shown as U+FFFD). Like ``stats()``, it belongs to the Dataset
        that ran: ``out = ds.filter(...); out.write_parquet(p); out.rejects()``."""
        return Dataset(_sluice.from_arrow_stream(self._ds.rejects(), session=self._ds.session()))

    # ------------------------------------------------------------------ consumption
    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        capsule = self._ds.to_stream()
        if requested_schema is not None:
            reader = pa.RecordBatchReader._import_from_c_capsule(capsule)
            target = pa.Schema._import_from_c_capsule(requested_schema)
            return reader.cast(target).__arrow_c_stream__()
        return capsule

    def _execute(self) -> "tuple[pa.Schema, Iterator[pa.RecordBatch]]":
        """Starts the plan: its schema and a generator of its batches. Reading goes one
        engine call per batch, so Ctrl-C stops a job at the next batch, and engine errors
        surface as sluice exceptions."""
        it = self._ds.execute()
        schema = _field_names.restore_schema(pa.Schema._import_from_c_capsule(it.schema()))

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                while True:
                    capsules = it.next()
                    if capsules is None:
                        return
                    yield _field_names.restore_batch(
                        pa.RecordBatch._import_from_c_capsule(*capsules))
            finally:
                it.close()

        return schema, batches()

    def _batches(self) -> Iterator[pa.RecordBatch]:
        return self._execute()[1]

    def to_arrow(self) -> pa.Table:
        schema, batches = self._execute()
        return pa.Table.from_batches(list(batches), schema=schema)

    def to_pandas(self, limit: Optional[int] = None) -> pd.DataFrame:
        ds = self if limit is None else self.limit(limit)
        return ds.to_arrow().to_pandas()

    def take(self, limit: int = 20) -> List[Dict[str, Any]]:
        return self.limit(limit).to_arrow().to_pylist()

    def take_all(self, limit: Optional[int] = None) -> List[Dict[str, Any]]:
        rows = self.to_arrow().to_pylist()
        if limit is not None and len(rows) > limit:
            raise ValueError(f"the dataset has more than {limit} rows")
        return rows

    def take_batch(self, batch_size: int = 20, *, batch_format: str = "default") -> Any:
        batch = self.limit(batch_size).to_arrow().combine_chunks()
        rb = _udf.table_to_batch(batch)
        return _udf.to_batch_format(rb, _udf.check_batch_format(batch_format))

    def show(self, limit: int = 20) -> None:
        """Print up to ``limit`` rows, one dict per line."""
        for row in self.take(limit):
            print(row)

    def iter_rows(self) -> Iterator[Dict[str, Any]]:
        for batch in self._batches():
            yield from batch.to_pylist()

    def iter_batches(self, *, batch_size: Optional[int] = 256, batch_format: str = "default",
                     drop_last: bool = False) -> Iterator[Any]:
        """Stream the rows in batches of exactly ``batch_size`` (the last may be
        smaller unless ``drop_last``); ``batch_size=None`` yields engine batches."""
        fmt = _udf.check_batch_format(batch_format)
        if batch_size is not None and batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        reader = self._batches()
        if batch_size is None:
            for batch in reader:
                yield _udf.to_batch_format(batch, fmt)
            return
        pending: List[pa.RecordBatch] = []
        pending_rows = 0
        for batch in reader:
            offset = 0
            while offset < batch.num_rows:
                take = min(batch_size - pending_rows, batch.num_rows - offset)
                pending.append(batch.slice(offset, take))
                pending_rows += take
                offset += take
                if pending_rows == batch_size:
                    yield _udf.to_batch_format(_combine(pending), fmt)
                    pending, pending_rows = [], 0
        if pending_rows and not drop_last:
            yield _udf.to_batch_format(_combine(pending), fmt)

    # ------------------------------------------------------------------ writing
    def write_parquet(self, path: Union[str, os.PathLike, None] = None, *,
                      partition_cols: Optional[Sequence[str]] = None, mode: str = "error",
                      compression: str = "snappy", max_rows_per_file: Optional[int] = None,
                      table: Optional[str] = None, replace_foreign_files: bool = False,
                      explain: bool = False) -> Dict[str, Any]:
        """Write Parquet files under directory ``path`` (Hive ``key=value/`` directories
        for ``partition_cols``). Files are staged and published only if the whole write
        succeeds. Returns ``{"files": [...], "rows": n, "bytes": n}``.

        ``table="db.name"`` registers the write in the catalog in the same commit: a new
        table is created at ``path``; an existing one is written at its location (``path``
        may be left out), gains new nullable columns and refuses changed types. An empty
        name is an error.

        ``mode="overwrite"`` (and ``"overwrite_partitions"``, within the partitions it
        writes) refuses a directory holding files Sluice did not write or symbolic links,
        naming them; ``replace_foreign_files=True`` deletes those files and removes the
        links (never what they point to). See docs/commit-protocol.md.

        ``explain=True`` (every ``write_*`` takes it) writes nothing and returns the plan
        of the write as ``explain()`` shows it, with the write at its root."""
        if path is None and table is None:
            raise ValueError("write_parquet needs a path, a table, or both")
        return self._ds.write("parquet", os.fspath(path) if path is not None else "", mode,
                              list(partition_cols or []), compression, max_rows_per_file,
                              table=table, replace_foreign_files=replace_foreign_files,
                              explain=explain)

    def write_csv(self, path: Union[str, os.PathLike], *,
                  partition_cols: Optional[Sequence[str]] = None, mode: str = "error",
                  compression: str = "none", max_rows_per_file: Optional[int] = None,
                  delimiter: str = ",", header: bool = True,
                  replace_foreign_files: bool = False, explain: bool = False) -> Dict[str, Any]:
        """Write CSV files; modes, ``replace_foreign_files`` and ``explain`` as in
        write_parquet."""
        return self._ds.write("csv", os.fspath(path), mode, list(partition_cols or []),
                              compression, max_rows_per_file, delimiter, header,
                              replace_foreign_files=replace_foreign_files, explain=explain)

    def write_json(self, path: Union[str, os.PathLike], *,
                   partition_cols: Optional[Sequence[str]] = None, mode: str = "error",
                   compression: str = "none", max_rows_per_file: Optional[int] = None,
                   replace_foreign_files: bool = False, explain: bool = False) -> Dict[str, Any]:
        """Write JSON lines (one object per row); modes, ``replace_foreign_files`` and
        ``explain`` as in write_parquet."""
        return self._ds.write("json", os.fspath(path), mode, list(partition_cols or []),
                              compression, max_rows_per_file,
                              replace_foreign_files=replace_foreign_files, explain=explain)

    def __reduce__(self):
        """Pickling a Dataset pickles its plan (Ray and multiprocessing send datasets this
        way): Python functions go by value with cloudpickle; in-memory data is copied.
        File sources go as the files they listed (opened again where unpickled, with that
        session's settings). Unpickled, it runs in the session current there. Plans that
        cannot leave the process (C++ functions) raise ``SluiceNotImplementedError``."""
        return _from_plan_bytes, (self._ds.serialize_plan(),)

    def __repr__(self) -> str:
        try:
            schema = self.schema()
            fields = ", ".join(f"{f.name}: {f.type}" for f in schema)
        except Exception:  # a plan whose schema needs running user code
            fields = "?"
        return f"Dataset(schema={{{fields}}})"


def _combine(batches: List[pa.RecordBatch]) -> pa.RecordBatch:
    if len(batches) == 1:
        return batches[0]
    return pa.concat_batches(batches)


class GroupedData:
    """The result of ``ds.groupby(key)``; aggregate it to get a Dataset whose columns
    are the keys and Ray Data-style names: ``count()``, ``sum(x)``, ``mean(x)``."""

    def __init__(self, dataset: Dataset, keys: List[str]):
        self._dataset = dataset
        self._keys = keys

    def aggregate(self, *aggs: AggregateFn) -> Dataset:
        if not aggs:
            raise ValueError("aggregate needs at least one aggregation")
        specs = []
        for agg in aggs:
            if not isinstance(agg, AggregateFn):
                raise TypeError(f"aggregate takes sluice.aggregate functions, got "
                                f"{type(agg).__name__}")
            specs.append(agg._spec())
        return Dataset(self._dataset._ds.aggregate(self._keys, specs))

    def count(self) -> Dataset:
        return self.aggregate(Count())

    def _each(self, cls: type, on: Union[str, Sequence[str]]) -> Dataset:
        return self.aggregate(*[cls(c) for c in _as_list(on)])

    def sum(self, on: Union[str, Sequence[str]]) -> Dataset:
        return self._each(Sum, on)

    def mean(self, on: Union[str, Sequence[str]]) -> Dataset:
        return self._each(Mean, on)

    def min(self, on: Union[str, Sequence[str]]) -> Dataset:
        return self._each(Min, on)

    def max(self, on: Union[str, Sequence[str]]) -> Dataset:
        return self._each(Max, on)

    def std(self, on: Union[str, Sequence[str]]) -> Dataset:
        return self._each(Std, on)

    def map_groups(self, fn: Callable, *, batch_format: str = "pandas") -> Dataset:
        """Apply ``fn`` to each group's rows (a whole group per call)."""
        fmt = _udf.check_batch_format(batch_format)
        keys = self._keys
        name = _udf.describe(fn)
        table = self._dataset.sort(keys).to_arrow() if keys else self._dataset.to_arrow()
        outputs = []
        if table.num_rows:
            if keys:
                frame_keys = table.select(keys).to_pandas()
                boundaries = [0]
                key_rows = list(frame_keys.itertuples(index=False, name=None))
                for i in range(1, len(key_rows)):
                    if key_rows[i] != key_rows[i - 1]:
                        boundaries.append(i)
                boundaries.append(len(key_rows))
            else:
                boundaries = [0, table.num_rows]
            for start, stop in zip(boundaries, boundaries[1:]):
                group = _udf.table_to_batch(table.slice(start, stop - start))
                result = fn(_udf.to_batch_format(group, fmt))
                outputs.append(_udf.to_record_batch(result, name))
        if not outputs:
            return from_arrow(table.schema.empty_table())
        return from_arrow(pa.Table.from_batches(outputs))


# ---------------------------------------------------------------------- constructors
def from_arrow(tables: Any) -> Dataset:
    """A Dataset over a pyarrow Table, a list of Tables, or anything that exposes
    ``__arrow_c_stream__`` (polars, DuckDB results, ...)."""
    if isinstance(tables, (list, tuple)):
        if not tables:
            raise ValueError("from_arrow got an empty list")
        tables = pa.concat_tables([pa.table(t) for t in tables])
    if isinstance(tables, pa.RecordBatch):
        tables = pa.Table.from_batches([tables])
    if not hasattr(tables, "__arrow_c_stream__"):
        raise TypeError(f"from_arrow needs a pyarrow Table or an object with "
                        f"__arrow_c_stream__, got {type(tables).__name__}")
    from .session import _native_session
    return Dataset(_sluice.from_arrow_stream(tables.__arrow_c_stream__(),
                                             session=_native_session()))


def from_pandas(dfs: Union[pd.DataFrame, Sequence[pd.DataFrame]]) -> Dataset:
    frames = [dfs] if isinstance(dfs, pd.DataFrame) else list(dfs)
    for frame in frames:
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"from_pandas takes DataFrames, got {type(frame).__name__}")
    return from_arrow([pa.Table.from_pandas(f, preserve_index=False) for f in frames])


def from_items(items: Sequence[Any]) -> Dataset:
    """Rows from a list of dicts; other values become rows of column ``item``."""
    items = list(items)
    if items and all(isinstance(i, dict) for i in items):
        return from_arrow(pa.Table.from_pylist(items))
    return from_arrow(pa.table({"item": items}))


def from_numpy(arrays: Any) -> Dataset:
    """Rows from a numpy array (column ``data``) or a dict of arrays."""
    import numpy as np

    if isinstance(arrays, dict):
        return from_arrow(pa.table({k: (list(v) if np.asarray(v).ndim > 1 else v)
                                    for k, v in arrays.items()}))
    arr = np.asarray(arrays)
    return from_arrow(pa.table({"data": list(arr) if arr.ndim > 1 else arr}))


def range(n: int) -> Dataset:  # noqa: A001 - Ray Data's name
    """Integers ``0..n-1`` in column ``id``."""
    from .session import _native_session
    return Dataset(_sluice.range(int(n), session=_native_session()))


def _from_plan_bytes(plan: bytes) -> Dataset:
    from .session import _native_session
    return Dataset(_sluice.deserialize_plan(plan, session=_native_session()))
