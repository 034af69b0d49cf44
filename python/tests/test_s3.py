"""s3:// paths against a real S3-compatible server (moto) started on loopback: reads and
writes of every format, the CLI, write modes, multipart uploads, listings over 1,000
objects, metadata-only count/schema and a connection cut in the middle of a read."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import sluice as sl
from sluice.errors import SluiceIOError

SLUICE = str(Path(sys.executable).parent / "sluice")


def sample(rows=5000, seed=0):
    rng = np.random.default_rng(seed)
    return pa.table({
        "id": np.arange(rows, dtype=np.int64),
        "market": pa.array(rng.choice(["US", "UK", "DE"], rows)),
        "year": pa.array(rng.integers(2013, 2016, rows), pa.int32()),
        "score": rng.random(rows),
    })


def sorted_rows(table: pa.Table) -> pa.Table:
    table = table.select(sorted(table.column_names))
    return table.sort_by([(name, "ascending") for name in table.column_names])


def s3_keys(s3_server, prefix: str):
    import pyarrow.fs as pafs
    fs = s3_server.filesystem()
    return sorted(info.path for info in fs.get_file_info(pafs.FileSelector(prefix, recursive=True))
                  if info.type == pafs.FileType.File)


def test_parquet_csv_json_round_trip(s3_bucket):
    table = sample()
    result = sl.from_arrow(table).write_parquet(f"{s3_bucket}/reviews",
                                                partition_cols=["year", "market"])
    assert result["rows"] == len(table)
    assert all(f.startswith(f"{s3_bucket}/reviews/year=") for f in result["files"])
    back = sl.read_parquet(f"{s3_bucket}/reviews").to_arrow()
    expected = table.set_column(2, "year", table["year"].cast(pa.int32()))
    assert sorted_rows(back.select(expected.column_names)).equals(sorted_rows(expected))
    filtered = sl.read_parquet(f"{s3_bucket}/reviews", filter=sl.col("year") == 2014).count()
    assert filtered == pa.compute.sum(pa.compute.equal(table["year"], 2014)).as_py()

    sl.from_arrow(table).write_csv(f"{s3_bucket}/csv", compression="gzip")
    assert sl.read_csv(f"{s3_bucket}/csv").count() == len(table)
    sl.from_arrow(table).write_json(f"{s3_bucket}/json")
    json_back = sl.read_json(f"{s3_bucket}/json").to_arrow()
    assert json_back.num_rows == len(table)
    assert sorted(json_back["id"].to_pylist()) == list(range(len(table)))


def test_configuration_from_uri_query_and_errors(s3_server, s3_bucket):
    table = sample(100)
    sl.from_arrow(table).write_parquet(f"{s3_bucket}/q")
    sl.configure(s3_endpoint="")  # the URI's own query is enough
    uri = f"{s3_bucket}/q?endpoint_override={s3_server.endpoint}&scheme=http&region=us-east-1"
    assert sl.read_parquet(uri).count() == 100
    sl.configure(s3_endpoint=f"http://{s3_server.endpoint}")
    with pytest.raises(SluiceIOError, match="nothing-here"):
        sl.read_parquet(f"{s3_bucket}/nothing-here").count()
    with pytest.raises(ValueError, match="s3_scheme"):
        sl.configure(s3_scheme="ftp")
    with pytest.raises(ValueError, match="http:// or https://"):
        sl.configure(s3_endpoint="ftp://127.0.0.1:1")


def test_cli_reads_and_converts_on_s3(s3_server, s3_bucket):
    sl.from_arrow(sample(1000)).write_parquet(f"{s3_bucket}/in", partition_cols=["market"])
    env = dict(os.environ, SLUICE_PROGRESS="0")
    flags = ["--s3-endpoint", f"http://{s3_server.endpoint}"]
    inspect = subprocess.run([SLUICE, "inspect", f"{s3_bucket}/in", *flags], env=env,
                             capture_output=True, text=True)
    assert inspect.returncode == 0, inspect.stderr
    assert "1,000" in inspect.stdout or "1000" in inspect.stdout
    convert = subprocess.run([SLUICE, "convert", f"{s3_bucket}/in", f"{s3_bucket}/out.json",
                              "--to", "json", *flags], env=env, capture_output=True, text=True)
    assert convert.returncode == 0, convert.stderr
    assert sl.read_json(f"{s3_bucket}/out.json").count() == 1000
    # The same through the environment variable.
    env["SLUICE_S3_ENDPOINT"] = f"http://{s3_server.endpoint}"
    head = subprocess.run([SLUICE, "head", f"{s3_bucket}/in", "-n", "3"], env=env,
                          capture_output=True, text=True)
    assert head.returncode == 0, head.stderr
    assert "market" in head.stdout


@pytest.mark.parametrize("where", ["local", "s3"])
def test_write_modes_behave_the_same_on_s3_and_locally(where, tmp_path, request):
    base = request.getfixturevalue("s3_bucket") if where == "s3" else str(tmp_path)
    target = f"{base}/modes"
    first = pa.table({"k": ["a", "b", "b"], "v": [1, 2, 3]})
    sl.from_arrow(first).write_parquet(target, partition_cols=["k"])
    with pytest.raises(SluiceIOError, match="already exists and is not empty"):
        sl.from_arrow(first).write_parquet(target, partition_cols=["k"])

    def values():
        table = sl.read_parquet(target).to_arrow()
        return sorted(zip(table["k"].to_pylist(), table["v"].to_pylist()))

    sl.from_arrow(first).write_parquet(target, partition_cols=["k"], mode="append")
    assert values() == sorted([("a", 1), ("b", 2), ("b", 3)] * 2)
    second = pa.table({"k": ["b", "c"], "v": [20, 30]})
    sl.from_arrow(second).write_parquet(target, partition_cols=["k"],
                                        mode="overwrite_partitions")
    assert values() == [("a", 1), ("a", 1), ("b", 20), ("c", 30)]
    with pytest.raises(ValueError, match="partitioned by"):
        sl.from_arrow(pa.table({"v": [1], "w": [2]})).write_parquet(
            target, partition_cols=["w"], mode="append")
    sl.from_arrow(second).write_parquet(target, partition_cols=["k"], mode="overwrite")
    assert values() == [("b", 20), ("c", 30)]
    # Partition values with dots are fine in a manifest ("..": not a parent directory).
    dots = pa.table({"k": ["a..b", ".."], "v": [1, 2]})
    sl.from_arrow(dots).write_parquet(target, partition_cols=["k"], mode="append")
    assert values() == [("..", 2), ("a..b", 1), ("b", 20), ("c", 30)]
    sl.from_arrow(dots.slice(0, 0)).write_parquet(target, partition_cols=["k"], mode="overwrite")
    with pytest.raises(SluiceIOError, match="manifest lists none"):
        sl.read_parquet(target).count()


def test_multipart_upload_of_a_file_over_10_mb(s3_server, s3_bucket):
    from s3_server import CuttingProxy
    rng = np.random.default_rng(1)
    rows = 1_700_000  # ~13.6 MB of incompressible float64 in one file
    table = pa.table({"x": rng.random(rows)})
    sl.configure(batch_rows=rows)  # one task, one file
    proxy = CuttingProxy(s3_server.port)
    try:
        sl.configure(s3_endpoint=f"http://{proxy.endpoint}")
        result = sl.from_arrow(table).write_parquet(f"{s3_bucket}/big", compression="none")
    finally:
        proxy.stop()
    assert len(result["files"]) == 1 and result["bytes"] > 10 * 1024 * 1024
    # The staged file went up in parts: one upload started, several parts, one completion.
    staged = [r for r in proxy.requests if "/big/_sluice_staging_" in r and ".parquet" in r]
    starts = [r for r in staged if r.startswith("POST") and "?uploads" in r]
    parts = [r for r in staged if r.startswith("PUT") and "partNumber=" in r]
    assert len(starts) == 1, staged
    assert len(parts) >= 2, staged
    sl.configure(s3_endpoint=f"http://{s3_server.endpoint}")
    back = sl.read_parquet(f"{s3_bucket}/big").to_arrow()
    assert back["x"].equals(table["x"])


def test_listing_over_1000_objects(s3_server, s3_bucket):
    fs = s3_server.filesystem()
    bucket = s3_bucket[len("s3://"):]

    def put(i):
        table = pa.table({"i": [i], "sq": [i * i]})
        with fs.open_output_stream(f"{bucket}/many/part-{i:05d}.parquet") as out:
            pq.write_table(table, out)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, range(1100)))
    # Each file holds one row: the count is only right if every key was listed (S3 lists
    # at most 1,000 keys per request).
    ds = sl.read_parquet(f"{s3_bucket}/many")
    assert ds.count() == 1100
    assert pa.schema(ds.schema()).names == ["i", "sq"]


def test_count_and_schema_read_only_footers(s3_server, s3_bucket, tmp_path):
    # Data pages overwritten with garbage, footer intact: only a data read can notice.
    table = pa.table({"a": np.arange(200_000, dtype=np.int64), "b": np.ones(200_000)})
    local = tmp_path / "damaged.parquet"
    pq.write_table(table, local, compression="none", row_group_size=50_000)
    data = bytearray(local.read_bytes())
    footer_start = len(data) - 8 - int.from_bytes(data[-8:-4], "little")
    for i in range(8, footer_start - 8, 3):
        data[i] = 0xFF
    bucket = s3_bucket[len("s3://"):]
    with s3_server.filesystem().open_output_stream(f"{bucket}/damaged/x.parquet") as out:
        out.write(bytes(data))
    ds = sl.read_parquet(f"{s3_bucket}/damaged")
    assert ds.count() == 200_000
    assert pa.schema(ds.schema()).names == ["a", "b"]
    with pytest.raises(SluiceIOError, match="x.parquet"):
        ds.to_arrow()


def test_connection_cut_mid_read_gives_a_clear_error(s3_server, s3_bucket):
    from s3_server import CuttingProxy
    rng = np.random.default_rng(3)
    table = pa.table({"x": rng.random(2_000_000)})
    sl.configure(batch_rows=2_000_000)  # one task, one 16 MB file
    sl.from_arrow(table).write_parquet(f"{s3_bucket}/cut", compression="none")
    proxy = CuttingProxy(s3_server.port)
    try:
        sl.configure(s3_endpoint=f"http://{proxy.endpoint}")
        ds = sl.read_parquet(f"{s3_bucket}/cut")
        assert ds.count() == 2_000_000  # footers are small: not cut
        proxy.cut_after = 256 * 1024
        with pytest.raises(SluiceIOError) as error:
            ds.to_arrow()
        message = str(error.value)
        assert "cut/part-" in message, message
        assert proxy.cuts > 0
        proxy.cut_after = None
        assert sl.read_parquet(f"{s3_bucket}/cut").to_arrow()["x"].equals(table["x"])
    finally:
        proxy.stop()


def test_vacuum_on_s3_removes_abandoned_staging_and_orphans(s3_server, s3_bucket):
    sl.from_arrow(sample(100)).write_parquet(f"{s3_bucket}/v", partition_cols=["market"])
    fs = s3_server.filesystem()
    bucket = s3_bucket[len("s3://"):]
    dead = "_sluice_staging_0f0e0d0c-0b0a-4908-8706-050403020100.999999999.1.1.some-other-host"
    with fs.open_output_stream(f"{bucket}/v/{dead}/market=US/part-00000-000-x.parquet") as out:
        out.write(b"partial")
    orphan = f"{bucket}/v/market=US/part-00007-000-0f0e0d0c-0b0a-4908-8706-050403020100.parquet"
    pq.write_table(pa.table({"id": [1]}), orphan, filesystem=fs)
    foreign = f"{bucket}/v/market=US/notes.txt"
    with fs.open_output_stream(foreign) as out:
        out.write(b"kept")
    assert sl.read_parquet(f"{s3_bucket}/v").count() == 100  # the manifest hides both
    report = sl.vacuum(f"{s3_bucket}/v")
    assert len(report["removed_staging_dirs"]) == 1
    assert report["removed_files"] == [orphan]
    keys = s3_keys(s3_server, f"{bucket}/v")
    assert not any("_sluice_staging_" in k for k in keys)
    assert foreign in keys and orphan not in keys
