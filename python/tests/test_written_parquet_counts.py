"""count() agrees with the rows read, for every Parquet file the test session wrote or
generated under its temporary directory, and every one committed under data/. conftest.py
runs this test last, whatever else was selected, so it sees the files of all the tests
before it.

A file that cannot be read is not a mismatch (tests make corrupt files on purpose); the
rule is: when to_arrow() succeeds, count() must return its number of rows. The spill
tests write about 1 GB of Parquet (11 s to read in full here, 2 s by one column); so files
over FULL_READ_BYTES have only their first column read (the rows of one column are the
rows of the file), and the report says how many.
"""

import os
import time
from pathlib import Path

import sluice as sl
from sluice import errors

FULL_READ_BYTES = 1 << 20
COMMITTED_DATA = Path(__file__).parent / "data"

# What the last run checked, for conftest's terminal summary.
report = {}


def written_parquet_files(root: Path):
    """*.parquet files under `root`, outside hidden and staging (`.`/`_`) directories."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        for name in sorted(filenames):
            if name.endswith(".parquet") and not name.startswith((".", "_")):
                yield Path(dirpath) / name


def rows_read(path: Path) -> int:
    ds = sl.read_parquet(str(path))
    if path.stat().st_size > FULL_READ_BYTES:
        ds = ds.select_columns(ds.columns()[:1])
    return ds.to_arrow().num_rows


def count_mismatches(files):
    """(mismatches, unreadable) over `files`."""
    mismatches, unreadable = [], []
    for path in files:
        if not os.fsencode(path).decode("utf-8", "ignore") == str(path):
            unreadable.append(path)  # read_parquet takes paths as UTF-8 text
            continue
        try:
            rows = rows_read(path)
        except errors.SluiceError:
            unreadable.append(path)
            continue
        try:
            counted = sl.read_parquet(str(path)).count()
        except errors.SluiceError as e:
            mismatches.append(f"{path}: {rows} rows read but count() failed: {e}")
            continue
        if counted != rows:
            mismatches.append(f"{path}: count() = {counted}, {rows} rows read")
    return mismatches, unreadable


def test_count_equals_rows_read_for_every_parquet_file_written(tmp_path_factory):
    start = time.perf_counter()
    files = [*written_parquet_files(tmp_path_factory.getbasetemp()),
             *written_parquet_files(COMMITTED_DATA)]
    sl.configure(batch_rows=1 << 16)  # the autouse small_batches fixture restores it
    mismatches, unreadable = count_mismatches(files)
    report.update(files=len(files), unreadable=len(unreadable),
                  one_column=sum(1 for f in files if f.stat().st_size > FULL_READ_BYTES),
                  seconds=time.perf_counter() - start)
    assert not mismatches, "\n".join(mismatches)
