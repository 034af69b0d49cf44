"""A streaming job over data ten times the memory budget stays within the budget."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

BUDGET = 32 << 20
# Python, numpy, pandas, pyarrow and the engine's code and thread stacks, measured by the
# child before the job starts; what the job adds on top must fit budget + this slack.
SLACK = 96 << 20


def write_csv_files(directory, files=8, rows_per_file=560_000):
    rng = np.random.default_rng(3)
    words = np.array(["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"])
    total = 0
    for i in range(files):
        n = rows_per_file
        text = np.char.add(np.char.add(words[rng.integers(0, 7, n)], " "),
                           np.char.multiply(words[rng.integers(0, 7, n)], 8))
        table = pa.table({"id": np.arange(total, total + n), "x": rng.random(n),
                          "k": rng.integers(0, 100, n), "text": text})
        pcsv.write_csv(table, directory / f"part-{i}.csv")
        total += n
    return total


def test_read_filter_write_ten_times_the_budget(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    rows = write_csv_files(source)
    size = sum(p.stat().st_size for p in source.iterdir())
    assert size >= 10 * BUDGET, size

    job = textwrap.dedent(f"""
        import json, sys
        import sluice as sl

        def peak_rss():  # VmHWM starts afresh at exec, unlike ru_maxrss
            for line in open("/proc/self/status"):
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024

        sl.configure(memory_limit={BUDGET}, progress=False)
        before = peak_rss()
        ds = sl.read_csv({str(source)!r}).filter(sl.col("k") < 50)
        result = ds.write_parquet({str(tmp_path / "out")!r})
        after = peak_rss()
        stats = ds.stats_dict()
        print(json.dumps({{"rows": result["rows"], "rss_before": before, "rss_after": after,
                          "pool_peak": stats["peak_memory_bytes"]}}))
    """)
    out = subprocess.run([sys.executable, "-c", job], check=True, capture_output=True, text=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    expected = sum(pq.read_metadata(p).num_rows for p in (tmp_path / "out").glob("*.parquet"))
    assert report["rows"] == expected
    assert 0.45 * rows < expected < 0.55 * rows
    assert report["pool_peak"] <= BUDGET, report
    assert report["rss_after"] - report["rss_before"] <= BUDGET + SLACK, report
