"""One timed run of one workload on one engine, in a process of its own.

    python bench/run_one.py --engine duckdb --workload W4 --data DIR --out DIR

Prints one JSON line: {"seconds": ..., "startup_seconds": ...}. The time covers engine
start-up (a Spark session, a Ray instance) and the workload, not the interpreter's start
or imports. W3/W4 results are saved to OUT/result.parquet after the clock stops.
"""

import argparse
import importlib
import json
import os
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

MODULES = {"sluice": "sluice_engine", "sluice-udf": "sluice_engine", "duckdb": "duckdb_engine",
           "polars": "polars_engine", "pandas": "pandas_engine", "ray": "ray_engine",
           "daft": "daft_engine", "spark": "spark_engine"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", required=True, choices=sorted(MODULES))
    parser.add_argument("--workload", required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    engine = importlib.import_module(f"engines.{MODULES[args.engine]}")
    workload = getattr(engine, args.workload.lower())
    args.out.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    if hasattr(engine, "start"):
        engine.start()
    started = time.perf_counter()
    if args.engine == "sluice-udf":
        result = workload(args.data, args.out, udf=True)
    else:
        result = workload(args.data, args.out)
    seconds = time.perf_counter() - start
    if result is not None:
        pq.write_table(result, args.out / "result.parquet")
    print(json.dumps({"seconds": seconds, "startup_seconds": started - start}), flush=True)
    # The measurement is complete. Skip interpreter teardown: pyarrow's partitioned
    # writer (used by pandas) sometimes aborts at exit ("terminate called without an
    # active exception"), and Ray and Spark take seconds to shut down.
    os._exit(0)


if __name__ == "__main__":
    main()
