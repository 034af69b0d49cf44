"""Child process of test_catalog.py's concurrency tests: waits until the go file exists,
then writes its rows (one partition value of its own) to a catalog table."""

import os
import sys
import time

import pyarrow as pa

import sluice as sl


def main() -> None:
    path, table, market, go_file, rows = sys.argv[1:6]
    rows = int(rows)
    data = pa.table({"id": list(range(rows)), "market": [market] * rows,
                     "year": [2015] * rows})
    sl.configure(progress=False)
    while not os.path.exists(go_file):
        time.sleep(0.001)
    sl.from_arrow(data).write_parquet(path, partition_cols=["year", "market"], table=table,
                                      mode="append", max_rows_per_file=50)


if __name__ == "__main__":
    main()
