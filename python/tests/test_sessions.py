"""Sessions side by side in one process: their own memory limits, spill directories, S3
endpoints and statistics; cancelling one leaves the others running; many short queries
from 8 threads at once match DuckDB."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pytest

import sluice as sl
from sluice.errors import SluiceCancelled, SluiceValueError


def _stream_sorted(ds):
    """Rows streamed (not collected, so the result does not count against the budget)."""
    rows, previous, ordered = 0, None, True
    for batch in ds.iter_batches(batch_format="pyarrow"):
        values = batch.column("id").to_pylist()
        if values:
            ordered &= previous is None or values[0] < previous
            ordered &= all(a > b for a, b in zip(values, values[1:]))
            previous = values[-1]
        rows += len(values)
    return rows, ordered


def _watch(directory: Path, stop: threading.Event, seen: list) -> threading.Thread:
    def run():
        while not stop.is_set():
            if directory.exists() and any(directory.iterdir()):
                seen.append(True)
                return
            time.sleep(0.002)
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_two_sessions_keep_their_own_limits_spill_dirs_and_stats(tmp_path):
    small = sl.Session(memory_limit="32MB", spill_dir=tmp_path / "small", num_threads=2,
                       progress=False)
    large = sl.Session(memory_limit="4GB", spill_dir=tmp_path / "large", num_threads=2,
                       progress=False)
    rows = 3_000_000
    stop, seen_small, seen_large = threading.Event(), [], []
    watchers = [_watch(tmp_path / "small", stop, seen_small),
                _watch(tmp_path / "large", stop, seen_large)]
    with ThreadPoolExecutor(2) as pool:
        # Made inside the block, run outside it and on another thread: still in its session.
        with small:
            small_sorted = sl.range(rows).sort("id", descending=True)
        large_sorted = large.range(rows).sort("id", descending=True)
        results = list(pool.map(_stream_sorted, [small_sorted, large_sorted]))
    stop.set()
    for watcher in watchers:
        watcher.join()
    assert results == [(rows, True), (rows, True)]
    s, l = small.stats(), large.stats()
    assert s["spilled_bytes"] > 0 and l["spilled_bytes"] == 0
    assert seen_small and not seen_large  # each spills into its own directory
    assert s["executions_started"] == 1 and l["executions_started"] == 1
    assert s["rows_out"] == rows and l["rows_out"] == rows
    assert s["memory_limit_bytes"] == 32 << 20
    assert s["peak_memory_bytes"] <= 32 << 20 < l["peak_memory_bytes"]
    assert s["memory_bytes"] == 0 and s["executions_running"] == 0
    # The default session saw none of it.
    assert sl.current_session().id == 1 != small.id
    assert "executions: 1 started" in small.stats_text()


def test_settings_belong_to_their_session(tmp_path):
    before = sl.current_config()
    session = sl.Session(memory_limit="100MB", catalog=tmp_path / "cat.db")
    assert session.config()["memory_limit_bytes"] == 100 << 20
    with session:
        assert sl.current_config()["catalog_path"] == str(tmp_path / "cat.db")
        assert sl.current_session() is session
    assert sl.current_config() == before
    session.configure(memory_limit="50MB")
    assert session.config()["memory_limit_bytes"] == 50 << 20
    assert sl.current_config()["memory_limit_bytes"] == before["memory_limit_bytes"]
    with pytest.raises(SluiceValueError, match="num_threads"):
        sl.Session(num_threads=-1)
    with pytest.raises(TypeError):
        session.configure(memory=1)
    # Writes register in the session's catalog.
    session.range(10).write_parquet(str(tmp_path / "t"), table="db.t")
    assert session.read_table("db.t").count() == 10
    with pytest.raises(sl.errors.NotInCatalogError):
        sl.read_table("db.t")  # the default session's catalog has no such table
    # Datasets of two sessions do not mix.
    with pytest.raises(SluiceValueError, match="different sessions"):
        session.range(3).union(sl.range(3)).count()


def test_sessions_read_and_write_their_own_s3_endpoint(s3_server, tmp_path, monkeypatch):
    from s3_server import MotoServer

    other = MotoServer()
    try:
        s3_server.create_bucket("shared-name")
        other.create_bucket("shared-name")
        first = sl.Session(s3_endpoint=f"http://{s3_server.endpoint}", s3_region="us-east-1")
        second = sl.Session(s3_endpoint=f"http://{other.endpoint}", s3_region="us-east-1")
        first.from_arrow(pa.table({"x": [1, 2, 3]})).write_parquet("s3://shared-name/t")
        second.from_arrow(pa.table({"x": [10, 20]})).write_parquet("s3://shared-name/t")
        # The same URI names different data in each session.
        assert sorted(first.read_parquet("s3://shared-name/t").to_arrow()["x"].to_pylist()) == [1, 2, 3]
        assert sorted(second.read_parquet("s3://shared-name/t").to_arrow()["x"].to_pylist()) == [10, 20]
        # Both at once, from two threads.
        with ThreadPoolExecutor(2) as pool:
            counts = list(pool.map(lambda s: s.read_parquet("s3://shared-name/t").count(),
                                   [first, second] * 4))
        assert counts == [3, 2] * 4
    finally:
        other.stop()


def test_cancelling_one_session_leaves_the_other_running():
    doomed = sl.Session(memory_limit="256MB", num_threads=2, progress=False)
    survivor = sl.Session(memory_limit="256MB", num_threads=2, progress=False)
    outcome = {}

    def run_forever():
        try:
            doomed.range(1 << 40).filter(sl.col("id") % 7 == 3).count()
            outcome["doomed"] = "finished"
        except SluiceCancelled as error:
            outcome["doomed"] = error

    thread = threading.Thread(target=run_forever)
    thread.start()
    deadline = time.monotonic() + 30
    while doomed.stats()["executions_running"] == 0 and time.monotonic() < deadline:
        time.sleep(0.001)
    with ThreadPoolExecutor(1) as pool:
        counted = pool.submit(lambda: survivor.range(7_000_000).filter(sl.col("id") % 7 == 3).count())
        doomed.cancel()
        assert counted.result(timeout=120) == 1_000_000
    thread.join(60)
    assert not thread.is_alive()
    assert isinstance(outcome["doomed"], SluiceCancelled)
    assert doomed.stats()["executions_failed"] == 1
    assert survivor.stats()["executions_failed"] == 0
    # Later jobs of the cancelled session run normally.
    assert doomed.range(700).filter(sl.col("id") % 7 == 3).count() == 100


def test_many_short_queries_from_eight_threads_match_duckdb(duck):
    sessions = [sl.Session.default(), sl.Session(memory_limit="128MB", progress=False),
                sl.Session(memory_limit="64MB", progress=False)]
    table = pa.table({"k": [i % 13 for i in range(20_000)], "v": list(range(20_000))})
    duck.register("t", table)

    lows = [(i * 997) % 15_000 for i in range(96)]
    # DuckDB's connection is not shared between threads: its answers come first.
    expected = [duck.execute(f"SELECT k, SUM(v) AS \"sum(v)\" FROM t WHERE v >= {low} "
                             "GROUP BY k ORDER BY k").fetchall()
                for low in lows]

    def query(i):
        session = sessions[i % len(sessions)]
        got = (session.from_arrow(table).filter(sl.col("v") >= lows[i])
               .groupby("k").sum("v").sort("k").to_arrow())
        return [(row["k"], row["sum(v)"]) for row in got.to_pylist()] == expected[i]

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(query, range(96)))
    assert sum(s.stats()["executions_started"] for s in sessions[1:]) == 64


def test_with_blocks_nest_per_thread_and_per_asyncio_task():
    import asyncio

    first, second = sl.Session(progress=False), sl.Session(progress=False)

    async def inside(session, ready, other_ready):
        with session:
            ready.set()
            await other_ready.wait()  # the other task enters its block meanwhile
            assert sl.current_session() is session
            with first:
                assert sl.current_session() is first
            assert sl.current_session() is session
            ds = sl.range(5)
        assert sl.current_session().id == 1
        return ds._ds.session().id

    async def main():
        a, b = asyncio.Event(), asyncio.Event()
        return await asyncio.gather(inside(first, a, b), inside(second, b, a))

    assert asyncio.run(main()) == [first.id, second.id]
    assert sl.current_session().id == 1
