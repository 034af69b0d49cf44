"""Child process of test_commit_kill.py: builds one trial's rows, says "ready", writes
them to the target, says "done". The test kills it at a random moment in between."""

import json
import sys
import time

import pyarrow as pa

import sluice as sl


def trial_rows(trial: int, mode: str):
    rows = 300 + 7 * trial
    ids = list(range(rows))
    parts = [i % 4 for i in ids]
    if mode == "overwrite_partitions":
        written = {trial % 4, (trial + 1) % 4}
        keep = [i for i in ids if parts[i] in written]
        ids, parts = keep, [i % 4 for i in keep]
    return [(trial, i, p) for i, p in zip(ids, parts)]


def main() -> None:
    target, trial, mode, rows_per_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    rows = trial_rows(trial, mode)
    table = pa.table({"version": [r[0] for r in rows], "id": [r[1] for r in rows],
                      "p": [r[2] for r in rows]})
    # Many small files (max_rows_per_file), so that publishing them takes a while.
    sl.configure(batch_rows=64, progress=False)
    print("ready", flush=True)
    start = time.monotonic()
    result = sl.from_arrow(table).write_parquet(target, partition_cols=["p"], mode=mode,
                                                max_rows_per_file=rows_per_file)
    print("done " + json.dumps({"files": len(result["files"]),
                                   "seconds": time.monotonic() - start}), flush=True)


if __name__ == "__main__":
    main()
