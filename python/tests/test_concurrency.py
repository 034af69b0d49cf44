"""Concurrency of Python user functions on engine worker threads: errors, early stops,
abandoned iterators, Ctrl-C, actor-pool constructors that raise and nested pipelines.
Every test has a timeout, so a deadlock fails the test instead of blocking the run."""

import gc
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pyarrow as pa
import pytest

import sluice as sl

# A range task is 16 batches: with batch_rows=100, rows 0..1599 are the first task.
TASK_ROWS = 1600


@pytest.fixture(autouse=True)
def many_small_tasks():
    sl.configure(batch_rows=100, num_threads=4)


def live_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def wait_for_threads(at_most: int, seconds: float = 10.0) -> int:
    deadline = time.monotonic() + seconds
    while live_threads() > at_most and time.monotonic() < deadline:
        time.sleep(0.05)
    return live_threads()


@pytest.mark.timeout(60)
def test_take_succeeds_when_a_later_task_fails():
    # Later tasks fail at once while the first is slow: the rows asked for come from the
    # first task, so the result must not depend on which worker got there first.
    def slow_then_fail(batch):
        if batch["id"].iloc[0] >= TASK_ROWS:
            raise ValueError("a later task failed")
        time.sleep(0.1)
        return batch

    for _ in range(3):
        assert sl.range(100_000).map_batches(slow_then_fail).take(5) == [
            {"id": i} for i in range(5)]


@pytest.mark.timeout(60)
def test_the_first_error_in_row_order_is_raised():
    def fail(batch):
        first = batch["id"].iloc[0]
        if first == TASK_ROWS:
            time.sleep(0.3)
            raise ValueError("the first failure in row order")
        if first == 2 * TASK_ROWS:
            raise KeyError("a later failure that happens sooner")
        return batch

    for _ in range(3):
        with pytest.raises(ValueError, match="the first failure in row order"):
            sl.range(100_000).map_batches(fail).to_arrow()


@pytest.mark.timeout(60)
def test_limit_stops_running_the_function_on_the_rest_of_a_task():
    first_task_calls = []

    def record(batch):
        if batch["id"].iloc[0] < TASK_ROWS:
            first_task_calls.append(batch["id"].iloc[0])
        return batch

    assert sl.range(1_000_000).map_batches(record).limit(5).to_arrow().num_rows == 5
    assert first_task_calls == [0]


@pytest.mark.timeout(60)
def test_take_does_not_finish_a_sort_in_another_union_branch():
    calls = []

    def slow(batch):
        calls.append(1)
        time.sleep(0.005)
        return batch

    # 1000 batches at 5 ms: the sort's input takes over a second on 4 workers, but the
    # 5 rows come from the first branch.
    ds = sl.range(100).union(sl.range(100_000).map_batches(slow).sort("id"))
    assert ds.take(5) == [{"id": i} for i in range(5)]
    assert len(calls) < 500


@pytest.mark.timeout(60)
@pytest.mark.parametrize("consume", ["to_arrow", "take_all", "iter_batches"])
def test_ctrl_c_stops_a_running_job(consume):
    script = textwrap.dedent(f"""
        import signal, sys, time
        import sluice as sl
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sl.configure(batch_rows=100, num_threads=4, progress=False)

        def slow(batch):
            sys.stdout.write("running\\n")
            sys.stdout.flush()
            time.sleep(0.05)
            return batch

        ds = sl.range(1_000_000).map_batches(slow)  # about 2 minutes of work
        try:
            if "{consume}" == "iter_batches":
                for _ in ds.iter_batches():
                    pass
            else:
                ds.{consume}()
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(0)
        print("finished", flush=True)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().startswith("running")
        time.sleep(0.5)
        child.send_signal(signal.SIGINT)
        lines = child.communicate(timeout=20)[0].split()
    finally:
        child.kill()
        child.wait()
    assert lines[-1] == "interrupted"


@pytest.mark.timeout(60)
def test_udf_error_while_other_workers_wait_in_backpressure():
    sl.configure(memory_limit="4MB")  # the conftest fixture restores it

    def fail_late(batch):
        if batch["id"].iloc[0] == 50 * 100:
            raise ValueError("boom")
        batch["pad"] = "x" * 2000
        return batch

    for _ in range(3):
        with pytest.raises(ValueError, match="boom"):
            sl.range(200_000).map_batches(fail_late).to_arrow()


@pytest.mark.timeout(120)
def test_abandoned_iterators_stop_their_workers():
    def slow(batch):
        time.sleep(0.002)
        return batch

    ds = sl.range(1_000_000).map_batches(slow)
    assert ds.take(1) == [{"id": 0}]  # starts the engine's own thread pools
    baseline = wait_for_threads(live_threads())
    for i in range(30):
        it = ds.iter_batches(batch_size=10)
        next(it)
        next(it)
        if i % 3 == 0:
            it.close()
        elif i % 3 == 1:
            del it
        else:
            cycle = [it]
            cycle.append(cycle)  # only the cycle collector frees it
            del it, cycle
            gc.collect()
    assert wait_for_threads(baseline) <= baseline


@pytest.mark.timeout(120)
def test_abandoning_an_iterator_while_functions_hold_the_gil():
    def busy(batch):
        end = time.perf_counter() + 0.005
        while time.perf_counter() < end:  # pure Python: holds the GIL
            pass
        return batch

    for _ in range(10):
        reader = sl.range(1_000_000).map_batches(busy).iter_batches(batch_size=None)
        next(reader)
        reader.close()
        stream = pa.RecordBatchReader._import_from_c_capsule(
            sl.range(1_000_000).map_batches(busy).__arrow_c_stream__())
        stream.read_next_batch()
        del stream


@pytest.mark.timeout(120)
@pytest.mark.parametrize("concurrency", [1, 3, (1, 4), (2, 4)])
def test_actor_constructor_that_always_raises(concurrency):
    class Broken:
        def __init__(self):
            raise RuntimeError("constructor failed")

        def __call__(self, batch):
            return batch

    for _ in range(3):
        with pytest.raises(RuntimeError, match="constructor failed"):
            sl.range(20_000).map_batches(Broken, concurrency=concurrency).to_arrow()


@pytest.mark.timeout(120)
def test_actor_constructor_that_sometimes_raises():
    lock = threading.Lock()
    built = [0]

    class Flaky:
        def __init__(self):
            with lock:
                built[0] += 1
                n = built[0]
            if n % 2 == 0:
                raise RuntimeError(f"constructor {n} failed")

        def __call__(self, batch):
            time.sleep(0.001)
            return batch

    for concurrency in [(1, 4), (1, 8), 2]:
        try:
            table = sl.range(20_000).map_batches(Flaky, concurrency=concurrency).to_arrow()
        except RuntimeError as error:
            assert "failed" in str(error)
        else:
            assert table.column("id").to_pylist() == list(range(20_000))


@pytest.mark.timeout(120)
def test_keyboard_interrupt_raised_by_a_function_reaches_the_caller():
    def interrupt(batch):
        if batch["id"].iloc[0] == 3 * TASK_ROWS:
            raise KeyboardInterrupt
        return batch

    with pytest.raises(KeyboardInterrupt):
        sl.range(100_000).map_batches(interrupt).to_arrow()


@pytest.mark.timeout(180)
def test_nested_pipelines_with_python_functions():
    def double(batch):
        batch["id"] = batch["id"] * 2
        return batch

    mapped = sl.range(20_000).map_batches(double)
    combined = mapped.sort("id", descending=True).limit(50).union(
        mapped.limit(7), mapped.union(mapped.sort("id")).limit(30_000), mapped)
    table = combined.to_arrow()
    ids = table.column("id").to_pylist()
    assert len(ids) == 50 + 7 + 30_000 + 20_000
    assert ids[:50] == list(range(39_998, 39_898, -2))
    assert ids[50:57] == list(range(0, 14, 2))
    assert combined.groupby(None).count().take_all() == [{"count()": len(ids)}]
    for n in range(1, 8):  # abandoned while the nested pipelines run
        it = combined.iter_batches(batch_size=n)
        next(it)
        del it


@pytest.mark.timeout(180)
def test_executions_from_many_python_threads():
    def plus_one(batch):
        batch["id"] = batch["id"] + 1
        return batch

    ds = sl.range(20_000).map_batches(plus_one)
    expected = list(range(1, 20_001))
    errors = []

    def run():
        try:
            for _ in range(3):
                assert ds.to_arrow().column("id").to_pylist() == expected
                assert ds.count() == 20_000
                assert ds.limit(3).take_all() == [{"id": 1}, {"id": 2}, {"id": 3}]
                it = ds.iter_batches(batch_size=100)
                next(it)
                it.close()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@pytest.mark.timeout(60)
def test_closed_batch_iterator_keeps_its_schema():
    it = sl.range(10)._ds.execute()
    it.close()
    assert it.next() is None
    assert pa.Schema._import_from_c_capsule(it.schema()).names == ["id"]
