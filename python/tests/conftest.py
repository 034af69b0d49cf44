"""Shared fixtures: a small generated reviews data set and a DuckDB connection used as the
reference engine."""

import itertools
import os
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


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on loopback for the whole session, with test credentials."""
    from s3_server import CREDENTIALS, MotoServer

    saved = {key: os.environ.get(key) for key in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    server = MotoServer()
    yield server
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture()
def s3_bucket(s3_server, request):
    """A fresh bucket, with sl.configure pointing s3:// at the test server; returns the
    bucket's s3:// URI."""
    name = "t-" + "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:40]
    name = name.rstrip("-") + f"-{next(_bucket_numbers)}"
    s3_server.create_bucket(name)
    sl.configure(s3_endpoint=f"http://{s3_server.endpoint}", s3_region="us-east-1")
    yield f"s3://{name}"
    sl.configure(s3_endpoint="", s3_region="", s3_scheme="")


_bucket_numbers = itertools.count()


@pytest.fixture()
def catalog_file(tmp_path):
    """A fresh catalog file for the test, also exported as SLUICE_CATALOG for the
    processes it starts."""
    path = tmp_path / "catalog.db"
    sl.configure(catalog=str(path))
    saved = os.environ.get("SLUICE_CATALOG")
    os.environ["SLUICE_CATALOG"] = str(path)
    yield path
    sl.configure(catalog="")
    if saved is None:
        os.environ.pop("SLUICE_CATALOG", None)
    else:
        os.environ["SLUICE_CATALOG"] = saved


# ---- count() == rows read, over every Parquet file the session wrote ------------------

_COUNT_CHECK_MODULE = Path(__file__).parent / "test_written_parquet_counts.py"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Moves the written-Parquet count check to the end, adding it when the selection
    (a single file, -k) left it out, so it always sees every file the session wrote."""
    check = [item for item in items if item.path == _COUNT_CHECK_MODULE]
    if not check:
        module = pytest.Module.from_parent(session, path=_COUNT_CHECK_MODULE)
        check = [item for item in module.collect() if isinstance(item, pytest.Item)]
    items[:] = [item for item in items if item.path != _COUNT_CHECK_MODULE] + check


def pytest_terminal_summary(terminalreporter):
    from test_written_parquet_counts import report

    if report:
        terminalreporter.write_line(
            f"Parquet count check: {report['files']} files written by the session checked "
            f"in {report['seconds']:.1f} s ({report['one_column']} large ones by their "
            f"first column; {report['unreadable']} could not be read)")
