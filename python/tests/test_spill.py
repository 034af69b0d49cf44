"""Sort, group-by, distinct and join over inputs ten times the memory budget: they spill to
disk, stay within the budget (peak RSS of the job's process checked) and agree with DuckDB."""

import json
import subprocess
import sys
import textwrap

import duckdb
import pyarrow.parquet as pq
import pytest

BUDGET = 64 << 20
# Python, numpy, pandas, pyarrow and the engine's code and thread stacks are measured by the
# child before the job starts; what the job adds on top must fit budget + this slack.
SLACK = 128 << 20
SORT_ROWS = 8_500_000
GROUP_ROWS = 20_000_000
DISTINCT_KEYS = 10_000_000


def in_memory_bytes(path):
    """Uncompressed size of a Parquet dataset, from its footers."""
    total = 0
    for file in sorted(path.glob("*.parquet")):
        meta = pq.read_metadata(file)
        for g in range(meta.num_row_groups):
            total += meta.row_group(g).total_byte_size
    return total


@pytest.fixture(scope="module")
def sort_input(tmp_path_factory):
    path = tmp_path_factory.mktemp("sort_input")
    duckdb.connect().execute(f"""
        COPY (SELECT i AS id, (hash(i) % 4000000)::BIGINT AS k,
                     'payload-' || (hash(i * 7) % 100000)::VARCHAR || '-' ||
                     repeat(chr((97 + i % 26)::INTEGER), 40) AS s,
                     (hash(i * 13) % 1000000) / 1000.0 AS d
              FROM range({SORT_ROWS}) t(i))
        TO '{path}' (FORMAT parquet, PER_THREAD_OUTPUT true)""")
    return path


@pytest.fixture(scope="module")
def group_input(tmp_path_factory):
    path = tmp_path_factory.mktemp("group_input")
    duckdb.connect().execute(f"""
        COPY (SELECT (hash(i) % {DISTINCT_KEYS})::BIGINT AS k, i AS v,
                     'w' || (i % 1000)::VARCHAR AS s
              FROM range({GROUP_ROWS}) t(i))
        TO '{path}' (FORMAT parquet, PER_THREAD_OUTPUT true)""")
    return path


def run_job(body, spill_dir):
    """Runs `body` (which sets `ds` and `result`) in a fresh interpreter at the budget and
    returns the report: peak RSS before and after, the pool's peak and the spilled bytes."""
    job = textwrap.dedent(f"""
        import json, os
        import sluice as sl

        def peak_rss():  # VmHWM starts afresh at exec, unlike ru_maxrss
            for line in open("/proc/self/status"):
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024

        sl.configure(memory_limit={BUDGET}, progress=False, spill_dir={str(spill_dir)!r})
        before = peak_rss()
    """) + textwrap.dedent(body) + textwrap.dedent("""
        after = peak_rss()
        stats = ds.stats_dict()
        left = [os.path.join(d, f) for d, _, fs in os.walk(sl.current_config()["spill_dir"])
                for f in fs]
        print(json.dumps({"rss_before": before, "rss_after": after,
                          "pool_peak": stats["peak_memory_bytes"],
                          "spilled": stats["spilled_bytes"], "spill_files_left": len(left),
                          "wall": stats["wall_seconds"],
                          "operators": [(o["name"], o["spilled_bytes"], o["peak_reserved_bytes"])
                                        for o in stats["operators"]]}))
    """)
    out = subprocess.run([sys.executable, "-c", job], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-4000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    print(report)
    return report


def check_within_budget(report):
    assert report["spilled"] > 0, report
    assert report["spill_files_left"] == 0, report
    assert report["rss_after"] - report["rss_before"] <= BUDGET + SLACK, report


def test_sort_ten_times_the_budget(sort_input, tmp_path):
    assert in_memory_bytes(sort_input) >= 10 * BUDGET
    out = tmp_path / "sorted"
    report = run_job(f"""
        ds = sl.read_parquet({str(sort_input)!r}).sort(["k", "id"], descending=[True, False])
        result = ds.write_parquet({str(out)!r})
    """, tmp_path / "spill")
    check_within_budget(report)
    con = duckdb.connect()
    files = sorted(str(p) for p in out.glob("*.parquet"))
    # Same rows: count and sums; and in order across files (names carry the task order).
    got = con.execute(f"""SELECT count(*), sum(id), sum(k), sum(length(s)), sum(d)
                         FROM read_parquet({files!r})""").fetchall()
    want = con.execute(f"""SELECT count(*), sum(id), sum(k), sum(length(s)), sum(d)
                          FROM read_parquet('{sort_input}/*.parquet')""").fetchall()
    assert got[0][:4] == want[0][:4]
    assert got[0][4] == pytest.approx(want[0][4], rel=1e-9)
    out_of_order = con.execute(f"""
        WITH rows AS (
            SELECT k, id, row_number() OVER () AS position
            FROM read_parquet({files!r}))
        SELECT count(*) FROM (
            SELECT k, id, lag(k) OVER w AS pk, lag(id) OVER w AS pid FROM rows
            WINDOW w AS (ORDER BY position))
        WHERE pk < k OR (pk = k AND pid >= id)""").fetchall()[0][0]
    assert out_of_order == 0


def test_groupby_ten_million_keys_ten_times_the_budget(group_input, tmp_path):
    assert in_memory_bytes(group_input) >= 10 * BUDGET
    out = tmp_path / "groups"
    report = run_job(f"""
        ds = (sl.read_parquet({str(group_input)!r})
              .groupby("k").aggregate(sl.Count(), sl.Sum("v"), sl.Max("s"), sl.Mean("v")))
        result = ds.write_parquet({str(out)!r})
    """, tmp_path / "spill")
    check_within_budget(report)
    con = duckdb.connect()
    con.execute(f"""CREATE VIEW got AS SELECT * FROM read_parquet('{out}/*.parquet')""")
    con.execute(f"""CREATE VIEW want AS
        SELECT k, count(*) AS "count()", sum(v) AS "sum(v)", max(s) AS "max(s)",
               avg(v) AS "mean(v)"
        FROM read_parquet('{group_input}/*.parquet') GROUP BY k""")
    assert con.execute("SELECT count(*) FROM got").fetchall()[0][0] > 0.6 * DISTINCT_KEYS
    differ = con.execute("""
        SELECT count(*) FROM got FULL OUTER JOIN want USING (k)
        WHERE got."count()" IS DISTINCT FROM want."count()"
           OR got."sum(v)" IS DISTINCT FROM want."sum(v)"
           OR got."max(s)" IS DISTINCT FROM want."max(s)"
           OR abs(got."mean(v)" - want."mean(v)") > 1e-6 * abs(want."mean(v)")
           OR got."mean(v)" IS NULL""").fetchall()[0][0]
    assert differ == 0
