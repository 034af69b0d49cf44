"""Execution events in Python: Session.add_listener callbacks, the JSON lines log
(log="json:PATH", SLUICE_LOG, sluice --log), and that the engine writes to stderr only
through its listeners."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

import sluice as sl

REPO = Path(__file__).resolve().parents[2]


def slow_pipeline(session, pause=0.7):
    paused = []

    def pause_once(batch):
        if not paused:
            paused.append(True)
            time.sleep(pause)
        return batch

    with session:
        return (sl.range(100_000).filter(sl.col("id") % 4 == 1)
                .map_batches(pause_once, batch_format="pyarrow").sort("id", descending=True))


def test_a_listener_gets_every_event_of_the_sessions_jobs_and_no_others():
    session, other = sl.Session(num_threads=2), sl.Session(num_threads=2)
    events, others = [], []
    session.add_listener(events.append)
    other.add_listener(others.append)
    ds = slow_pipeline(session)
    table = ds.to_arrow()
    session.remove_listener(events.append)  # delivers what is queued first
    other.remove_listener(others.append)

    assert table.num_rows == 25_000
    assert others == []
    kinds = [e["event"] for e in events]
    assert kinds[0] == "execution_started" and kinds[-1] == "execution_finished"
    assert {e["session"] for e in events} == {session.id}
    assert len({e["execution"] for e in events}) == 1
    assert "progress" in kinds  # the pause keeps it running for a couple of ticks
    stats = ds.stats_dict()
    finished = [e for e in events if e["event"] == "operator_finished"]
    assert [e["operator"] for e in finished] == [op["name"] for op in stats["operators"]]
    assert [e["rows_out"] for e in finished] == [op["rows_out"] for op in stats["operators"]]
    started = [e["operator_index"] for e in events if e["event"] == "operator_started"]
    assert sorted(started) == list(range(len(finished)))
    end = events[-1]
    assert end["outcome"] == "ok" and end["rows_out"] == stats["rows_out"] == 25_000
    assert end["tasks_done"] == end["tasks_total"] > 0
    for tick in (e for e in events if e["event"] == "progress"):
        assert tick["seconds"] < end["seconds"]
        assert tick["tasks_total"] == -1 or tick["tasks_done"] <= tick["tasks_total"]
    with pytest.raises(ValueError, match="does not listen"):
        session.remove_listener(events.append)


def test_failures_progress_off_and_a_failing_callback(monkeypatch):
    session = sl.Session(num_threads=2)
    events, unraisable = [], []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)

    def broken(event):
        raise RuntimeError("the listener itself fails")

    session.add_listener(events.append, progress=False)
    session.add_listener(broken)
    with pytest.raises(ValueError, match="already listens"):
        session.add_listener(events.append)

    def fail(batch):
        raise KeyError("no such model")

    with session:
        with pytest.raises(Exception, match="no such model"):
            sl.range(1000).map_batches(fail, batch_format="pyarrow").to_arrow()
        assert slow_pipeline(session, pause=0.4).count() == 25_000
    session.remove_listener(broken)
    session.remove_listener(events.append)
    assert "progress" not in [e["event"] for e in events]
    ends = [e for e in events if e["event"] == "execution_finished"]
    assert [e["outcome"] for e in ends] == ["failed", "ok"]
    assert "no such model" in ends[0]["message"]
    # Every event reached the broken callback too, each failure reported, none lost.
    assert len(unraisable) >= len(events)
    assert "the listener itself fails" in str(unraisable[0].exc_value)


def test_the_json_lines_log_from_a_session_the_environment_and_the_cli(tmp_path):
    log = tmp_path / "logs" / "events.jsonl"
    session = sl.Session(log=f"json:{log}")
    with session:
        assert sl.range(1000).to_arrow().num_rows == 1000
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines[0]["event"] == "execution_started"
    assert lines[-1]["event"] == "execution_finished" and lines[-1]["outcome"] == "ok"
    assert session.config()["log"] == f"json:{log}"
    with pytest.raises(ValueError, match="expected json:PATH"):
        sl.Session(log=str(log))

    # SLUICE_LOG for a script, --log for the CLI: both append to one file.
    shared = tmp_path / "shared.jsonl"
    script = "import sluice as sl; print(sl.range(77).to_arrow().num_rows)"
    env = dict(os.environ, SLUICE_LOG=f"json:{shared}", SLUICE_PROGRESS="0")
    ran = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, timeout=120)
    assert ran.returncode == 0 and ran.stdout.strip() == "77", ran.stderr
    source = tmp_path / "in.parquet"
    import pyarrow.parquet as pq
    pq.write_table(pa.table({"x": list(range(10))}), source)
    cli = Path(sys.executable).parent / "sluice"
    converted = subprocess.run(
        [str(cli), "convert", str(source), str(tmp_path / "out"), "--to", "json",
         "--log", f"json:{shared}"], capture_output=True, text=True, timeout=120)
    assert converted.returncode == 0, converted.stderr
    events = [json.loads(line) for line in shared.read_text().splitlines()]
    finished = [e for e in events if e["event"] == "execution_finished"]
    assert len(finished) == 2 and {e["outcome"] for e in finished} == {"ok"}
    assert finished[0]["rows_out"] == 77


def test_the_engine_writes_to_stderr_only_through_its_listeners():
    # The CLI reports its own errors; everything below it goes through events.
    allowed = {REPO / "cpp/src/runtime/terminal_output.cc"}
    offenders = []
    for path in (REPO / "cpp/src").rglob("*.cc"):
        if path in allowed or "cli" in path.relative_to(REPO / "cpp/src").parts[:1]:
            continue
        text = path.read_text()
        if re.search(r"std::cerr|std::clog|\bstderr\b|STDERR_FILENO", text):
            offenders.append(str(path.relative_to(REPO)))
    assert offenders == [], offenders
