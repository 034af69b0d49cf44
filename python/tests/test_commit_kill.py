"""The commit protocol under SIGKILL: a writer process is killed at a random moment of
its write (pipeline, staging, publishing, the manifest, clean-up), 50+ times on a local
directory and 50+ times on S3. After every kill a reader must see exactly the old table
or exactly the new one, never a mix; the next write must clean up what the killed one
left, and at the end no orphan file or staging directory may remain."""

import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow.fs as pafs
import pytest

import sluice as sl

sys.path.insert(0, str(Path(__file__).parent))
from kill_writer import trial_rows  # noqa: E402

WRITER = str(Path(__file__).parent / "kill_writer.py")
TRIALS = 50
MODES = ["overwrite", "append", "overwrite_partitions"]


def expected_after(old, trial, mode):
    new = trial_rows(trial, mode)
    if mode == "overwrite":
        return sorted(new)
    if mode == "append":
        return sorted(old + new)
    written = {p for _, _, p in new}
    return sorted([r for r in old if r[2] not in written] + new)


def read_rows(target):
    try:
        table = sl.read_parquet(target).to_arrow()
    except sl.SluiceError as error:
        if "No data files" in str(error) or "No such file" in str(error):
            return []
        raise
    return sorted(zip(table["version"].to_pylist(), table["id"].to_pylist(),
                      table["p"].to_pylist()))


def start_writer(target, trial, mode, env):
    # Locally ~60 files per write; on S3, where each is a copy and a delete, ~15.
    rows_per_file = "32" if target.startswith("s3://") else "8"
    process = subprocess.Popen([sys.executable, WRITER, target, str(trial), mode, rows_per_file],
                               env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert line.strip() == "ready", process.stderr.read()
    return process


def storage_state(filesystem, root):
    """Visible data files, the manifest's files, staging directories."""
    infos = filesystem.get_file_info(pafs.FileSelector(root, recursive=True,
                                                       allow_not_found=True))
    visible, staging = set(), set()
    for info in infos:
        relative = info.path[len(root) + 1:]
        if relative.startswith("_sluice_staging_"):
            staging.add(relative.split("/")[0])
        elif info.type == pafs.FileType.File and not any(
                part.startswith(("_", ".")) for part in relative.split("/")):
            visible.add(relative)
    manifest = set()
    try:
        with filesystem.open_input_stream(root + "/_SUCCESS") as stream:
            manifest = {f["path"] for f in json.loads(stream.read())["files"]}
    except (FileNotFoundError, OSError, ValueError):
        pass
    return visible, manifest, staging


def run_kill_trials(target, filesystem, root, env, seed):
    rng = random.Random(seed)
    # Trial 0 runs to the end: the table exists and the write's duration is known.
    process = start_writer(target, 0, "overwrite", env)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    duration = json.loads(out.split(" ", 1)[1])["seconds"]
    state = sorted(trial_rows(0, "overwrite"))
    assert read_rows(target) == state

    outcomes = Counter()
    phases = Counter()
    # The write's duration as the writers report it, and how far the kill window is
    # stretched past it. A write takes ~20 ms locally, so on a loaded machine later writes
    # may take twice as long as the first: every write that finishes before its kill
    # reports its time, and after five kills in a row that landed before the commit point
    # the window grows by a third.
    durations = [duration]
    stretch = 1.0
    kills_before_commit = 0
    for trial in range(1, TRIALS + 1):
        mode = MODES[trial % len(MODES)]
        new_state = expected_after(state, trial, mode)
        process = start_writer(target, trial, mode, env)
        window = statistics.median(durations[-5:]) * stretch
        # Half the kills anywhere in the write, half near its end, where the commit runs
        # (renames are quick next to the pipeline).
        if trial % 2:
            time.sleep(rng.uniform(0, 1.2 * window))
        else:
            time.sleep(rng.uniform(0.7 * window, 1.2 * window))
        process.send_signal(signal.SIGKILL)
        out, _ = process.communicate(timeout=60)
        if "done " in out:
            durations.append(json.loads(out.split("done ", 1)[1])["seconds"])

        visible, manifest, staging = storage_state(filesystem, root)
        seen = read_rows(target)
        if seen == new_state:
            phases["after the commit point, staging left" if staging else "write complete"] += 1
        elif visible - manifest:
            phases["while publishing"] += 1
        else:
            phases["before publishing"] += 1

        if seen == new_state:
            outcomes["new"] += 1
            state = new_state
            kills_before_commit = 0
        else:
            kills_before_commit += 1
            if kills_before_commit % 5 == 0:
                stretch *= 4 / 3
            assert seen == state, (
                f"trial {trial} ({mode}): the reader saw neither the old table "
                f"({len(state)} rows) nor the new one ({len(new_state)} rows) but "
                f"{len(seen)} rows of versions {sorted({r[0] for r in seen})}")
            outcomes["old"] += 1

    # One more write that runs to the end cleans up after the last kill.
    process = start_writer(target, TRIALS + 1, "append", env)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    state = expected_after(state, TRIALS + 1, "append")
    assert read_rows(target) == state
    visible, manifest, staging = storage_state(filesystem, root)
    assert not staging, staging
    assert visible == manifest, f"orphans: {sorted(visible - manifest)[:5]}"
    report = {"trials": TRIALS, "seed": seed, "write_seconds": round(duration, 3),
              "last_window_seconds": round(statistics.median(durations[-5:]) * stretch, 3),
              "outcomes": dict(outcomes), "phases": dict(phases)}
    print(f"\nkill test on {target}: {json.dumps(report)}")
    return outcomes, phases


def test_kill_during_local_writes(tmp_path):
    target = str(tmp_path / "table")
    env = dict(os.environ, SLUICE_PROGRESS="0")
    outcomes, phases = run_kill_trials(target, pafs.LocalFileSystem(), target, env, seed=5)
    assert outcomes["old"] + outcomes["new"] == TRIALS
    # The random moments must reach both sides of the commit point.
    assert outcomes["old"] > 0 and outcomes["new"] > 0, outcomes


def test_kill_during_s3_writes(s3_server, s3_bucket):
    target = f"{s3_bucket}/table"
    env = dict(os.environ, SLUICE_PROGRESS="0", SLUICE_S3_ENDPOINT=f"http://{s3_server.endpoint}",
               SLUICE_S3_REGION="us-east-1")
    root = target[len("s3://"):]
    outcomes, phases = run_kill_trials(target, s3_server.filesystem(), root, env, seed=11)
    assert outcomes["old"] + outcomes["new"] == TRIALS
    assert outcomes["old"] > 0 and outcomes["new"] > 0, outcomes
