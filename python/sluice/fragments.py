"""A dataset's plan cut into fragments, for runners that spread one job over many
processes (the Ray runner), and a reference runner that does it in this process.

    plan = fragments.cut(ds, hash_partitions=8)
    for f in plan.fragments:               # inputs before readers; the last is the root
        f.plan                             # bytes: what a task runs (functions pickled)
        f.inputs, f.scans, f.output        # where its data comes from and goes
    splits = plan.list_splits(f.id, 0, target_bytes=128 << 20)
    outputs = fragments.run_task(f.plan, splits=[splits[:4]], output=f.output)

A scan fragment's tasks each read some splits of one of its scans; a fragment with inputs
gets the outputs of the fragments it reads as their ``output`` exchange says: "gather"
(all, in task order, to one task), "forward" (each output to a task of its own), "hash"
and "range" (task p gets partition p of every output; a range exchange samples its
boundaries from the outputs first), "blocks" (all rows cut into equal blocks). The root's
outputs in task order are the dataset's rows; for a write, the driver begins the write,
every root task stages its rows with ``writer`` and the driver commits once.
``run_locally`` is that driver in one process; docs/fragments.md has the whole contract.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import pyarrow as pa

from . import _sluice

__all__ = ["Exchange", "Fragment", "FragmentedPlan", "cut", "cut_write", "run_task", "sample_range_boundaries",
           "partition", "cut_into_blocks", "run_locally"]


@dataclass(frozen=True)
class Exchange:
    """How a fragment's output reaches its reader (see the module's docstring)."""
    kind: str = "gather"
    keys: tuple = ()
    sort_keys: tuple = ()  # (column, descending, nulls_first)
    partitions: int = 1

    def _to_native(self) -> Dict[str, Any]:
        return {"kind": self.kind, "keys": list(self.keys),
                "sort_keys": [tuple(k) for k in self.sort_keys], "partitions": self.partitions}

    @staticmethod
    def _from_native(native: Dict[str, Any]) -> "Exchange":
        return Exchange(native["kind"], tuple(native["keys"]),
                        tuple(tuple(k) for k in native["sort_keys"]), native["partitions"])


@dataclass(frozen=True)
class Fragment:
    id: int
    plan: bytes
    inputs: tuple
    scans: int
    output: Exchange


def _tables(capsules: Sequence[Any]) -> List[pa.Table]:
    return [pa.RecordBatchReader._import_from_c_capsule(c).read_all() for c in capsules]


def _capsule(table: pa.Table) -> Any:
    return table.__arrow_c_stream__()


class FragmentedPlan:
    """The fragments of a dataset's optimized plan (made by ``cut``)."""

    def __init__(self, native: Any) -> None:
        self._native = native
        self.fragments: List[Fragment] = [
            Fragment(f["id"], f["plan"], tuple(f["inputs"]), f["scans"],
                     Exchange._from_native(f["output"]))
            for f in native.fragments()]

    @property
    def schema(self) -> Optional[pa.Schema]:
        """The schema of the rows as one process gives them (None where a user function
        decides it); a runner casts the root's outputs to it."""
        capsule = self._native.schema()
        return None if capsule is None else pa.Schema._import_from_c_capsule(capsule)

    @property
    def writes(self) -> bool:
        """Whether the plan ends in a write (see ``begin_write``)."""
        return self._native.writes

    def explain(self) -> str:
        return self._native.explain()

    def list_splits(self, fragment: int, scan: int, target_bytes: int = 128 << 20) -> List[dict]:
        """The splits of scan ``scan`` of fragment ``fragment``, of about ``target_bytes``
        each (as stored): dicts with ``label``, ``payload``, ``rows`` and ``bytes``."""
        return self._native.list_splits(fragment, scan, target_bytes)

    def begin_write(self) -> Any:
        """Begins the plan's write here (on the driver): ``.writer`` goes to every root
        task, ``.commit(outputs)`` publishes the root tasks' outputs, in task order, once.
        Dropped uncommitted, the write is aborted and the target left as it was."""
        return _Write(self._native.begin_write())


class _Write:
    def __init__(self, native: Any) -> None:
        self._native = native
        self.writer = native.writer

    def commit(self, task_outputs: Sequence[pa.Table]) -> Dict[str, Any]:
        return self._native.commit([_capsule(t) for t in task_outputs])


def cut(ds: Any, hash_partitions: int = 8) -> FragmentedPlan:
    """Cuts ``ds``'s optimized plan at its pipeline breakers (joins exchange into
    ``hash_partitions`` hash partitions, sorts and group-bys into as many ranges)."""
    return FragmentedPlan(_sluice.FragmentedPlan.cut(ds._ds, hash_partitions))


def cut_write(ds: Any, format: str, path: Any, *, hash_partitions: int = 8, mode: str = "error",
              partition_cols: Sequence[str] = (), compression: Optional[str] = None,
              max_rows_per_file: Optional[int] = None, delimiter: str = ",",
              header: bool = True) -> FragmentedPlan:
    """``cut`` for writing ``ds`` as ``format`` ("parquet", "csv", "json") files under
    ``path`` with ``write_*``'s options: the root fragment's tasks stage the files, the
    driver commits them (``FragmentedPlan.begin_write``)."""
    return FragmentedPlan(_sluice.FragmentedPlan.cut_write(
        ds._ds, hash_partitions, format, os.fspath(path), mode=mode,
        partition_cols=list(partition_cols), compression=compression or "",
        max_rows_per_file=max_rows_per_file, delimiter=delimiter, header=header))


def run_task(plan: bytes, *, splits: Optional[Sequence[Sequence[dict]]] = None,
             inputs: Sequence[Sequence[pa.Table]] = (), output: Exchange = Exchange(),
             range_boundaries: Optional[pa.Table] = None, writer: Optional[tuple] = None,
             task_index: int = 0, session: Any = None) -> List[pa.Table]:
    """Runs one task of a fragment in ``session`` (default: the current one): over
    ``splits`` (per scan) or ``inputs`` (per input, tables in order). Returns its output,
    cut as ``output`` says (a hash or range exchange gives ``partitions`` tables); with
    ``writer`` the task stages its rows into the write and returns its results."""
    from .session import _native_session
    native_session = (getattr(session, "_native", session) if session is not None
                      else _native_session())
    capsules = _sluice.run_fragment_task(
        plan, splits=None if splits is None else [list(s) for s in splits],
        inputs=[[_capsule(t) for t in tables] for tables in inputs], output=output._to_native(),
        range_boundaries=None if range_boundaries is None else _capsule(range_boundaries),
        writer=writer, task_index=task_index, session=native_session)
    return _tables(capsules)


def sample_range_boundaries(tables: Sequence[pa.Table], exchange: Exchange,
                            sample_rows: int = 10000) -> pa.Table:
    """Boundary rows that cut ``tables`` into ``exchange.partitions`` ranges of about equal
    size, from an evenly spread sample."""
    capsule = _sluice.sample_range_boundaries([_capsule(t) for t in tables],
                                              [tuple(k) for k in exchange.sort_keys],
                                              exchange.partitions, sample_rows)
    return pa.RecordBatchReader._import_from_c_capsule(capsule).read_all()


def partition(table: pa.Table, exchange: Exchange,
              range_boundaries: Optional[pa.Table] = None) -> List[pa.Table]:
    """One output cut as a hash or range exchange says; other kinds: ``[table]``."""
    return _tables(_sluice.partition_fragment_output(
        _capsule(table), exchange._to_native(),
        None if range_boundaries is None else _capsule(range_boundaries)))


def cut_into_blocks(tables: Sequence[pa.Table], blocks: int) -> List[pa.Table]:
    """The rows of ``tables``, in order, as ``blocks`` blocks of equal size."""
    return _tables(_sluice.cut_into_blocks([_capsule(t) for t in tables], blocks))


def run_locally(ds: Any, *, hash_partitions: int = 4, split_bytes: int = 128 << 20,
                splits_per_task: int = 1, write: Optional[Dict[str, Any]] = None) -> Any:
    """Runs ``ds`` fragment by fragment in this process, every task from its plan's bytes,
    passing outputs between fragments as their exchanges say: the reference for runners,
    and the test that a plan cut into fragments gives the single-process result. Returns
    the rows as a table; with ``write`` (``cut_write``'s arguments: format, path, options)
    it writes them and returns the commit's result (files, rows, bytes)."""
    plan = (cut(ds, hash_partitions) if write is None
            else cut_write(ds, hash_partitions=hash_partitions, **write))
    outputs: Dict[int, List[List[pa.Table]]] = {}
    session = ds._ds.session()  # tasks run in the dataset's session
    write = plan.begin_write() if plan.writes else None
    root = plan.fragments[-1]
    for fragment in plan.fragments:
        tasks = _tasks_of(plan, fragment, outputs, split_bytes, splits_per_task)
        # A range exchange needs the boundaries of all the outputs: cut afterwards.
        local_output = fragment.output if fragment.output.kind == "hash" else Exchange()
        results = []
        for index, task in enumerate(tasks):
            is_root_write = write is not None and fragment is root
            results.append(run_task(fragment.plan, output=local_output,
                                    writer=write.writer if is_root_write else None,
                                    task_index=index, session=session, **task))
        if fragment.output.kind == "range":
            bounds = sample_range_boundaries([r[0] for r in results], fragment.output)
            results = [partition(r[0], fragment.output, bounds) for r in results]
        outputs[fragment.id] = results
    final = [r[0] for r in outputs[root.id]]
    if write is not None:
        return write.commit(final)
    # Tasks of a plan whose user function never ran (no rows) return tables without
    # columns; they add nothing where other tasks tell the schema.
    with_columns = [t for t in final if t.num_columns > 0 or t.num_rows > 0]
    rows = pa.concat_tables(with_columns or final[:1])
    schema = plan.schema
    return rows if schema is None else rows.cast(schema)


def _tasks_of(plan: FragmentedPlan, fragment: Fragment, outputs: Dict[int, List[List[pa.Table]]],
              split_bytes: int, splits_per_task: int) -> List[dict]:
    if not fragment.inputs:
        tasks = []
        for scan in range(fragment.scans):
            splits = plan.list_splits(fragment.id, scan, split_bytes)
            for start in range(0, len(splits), splits_per_task):
                per_scan: List[List[dict]] = [[] for _ in range(fragment.scans)]
                per_scan[scan] = splits[start:start + splits_per_task]
                tasks.append({"splits": per_scan})
        # No split at all (every file pruned): one task over nothing still gives the
        # fragment's empty output (and a global aggregate's one row).
        return tasks or [{"splits": [[] for _ in range(fragment.scans)]}]
    exchange = plan.fragments[fragment.inputs[0]].output
    upstream = [outputs[i] for i in fragment.inputs]
    if exchange.kind == "gather":
        return [{"inputs": [[o[0] for o in outs] for outs in upstream]}]
    if exchange.kind == "forward":
        tasks = []
        for i, outs in enumerate(upstream):
            for out in outs:
                inputs: List[List[pa.Table]] = [[] for _ in upstream]
                inputs[i] = [out[0]]
                tasks.append({"inputs": inputs})
        return tasks
    if exchange.kind == "blocks":
        blocks = cut_into_blocks([o[0] for o in upstream[0]], exchange.partitions)
        return [{"inputs": [[block]]} for block in blocks]
    # hash and range: task p reads partition p of every output of every input.
    return [{"inputs": [[o[p] for o in outs] for outs in upstream]}
            for p in range(exchange.partitions)]
