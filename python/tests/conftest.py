"""Shared fixtures: a small generated reviews data set and a DuckDB connection used as the
reference engine."""

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

import sluice as sl

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def reviews(tmp_path_factory) -> Path:
    """20k generated reviews as Parquet (by product_category), TSV.gz and text."""
    out = tmp_path_factory.mktemp("reviews")
    subprocess.run([sys.executable, str(ROOT / "bench" / "gen_reviews.py"), "--rows", "20000",
                    "--out", str(out), "--files", "4", "--seed", "7"], check=True,
                   capture_output=True)
    return out


@pytest.fixture()
def duck():
    con = duckdb.connect()
    yield con
    con.close()


@pytest.fixture(autouse=True)
def small_batches():
    """Small batches so every test runs many tasks in parallel and exercises ordering."""
    before = sl.current_config()
    sl.configure(batch_rows=2048, progress=False)
    yield
    sl.configure(batch_rows=before["batch_rows"], memory_limit=before["memory_limit_bytes"],
                 num_threads=before["num_threads"])
