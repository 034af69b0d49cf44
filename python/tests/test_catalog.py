"""The table catalog: writes that register tables and partitions in the same commit,
read_table with partition pruning from the catalog, schema evolution, crawling existing
data (local and S3), history, the CLI, and concurrent writers."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

import sluice as sl
from sluice.errors import NotInCatalogError, SluiceTypeError

SLUICE = str(Path(sys.executable).parent / "sluice")
WRITER = str(Path(__file__).parent / "concurrent_table_writer.py")
MARKETS = ["US", "UK", "DE", "FR", "JP"]


def reviews(rows=2000, offset=0):
    return pa.table({
        "review_id": [f"r{offset + i}" for i in range(rows)],
        "stars": [1 + (offset + i) % 5 for i in range(rows)],
        "year": [2013 + (offset + i) % 4 for i in range(rows)],
        "marketplace": [MARKETS[(offset + i) % 5] for i in range(rows)],
    })


def rows_of(table, columns=("review_id", "stars", "year", "marketplace")):
    return sorted(zip(*(table[c].to_pylist() for c in columns)))


def specs(partitions):
    return sorted(p["spec"] for p in partitions)


def test_write_creates_table_and_registers_exactly_the_partitions(tmp_path, catalog_file):
    data = reviews()
    sl.catalog.create_database("sales", description="reviews by marketplace")
    result = sl.from_arrow(data).write_parquet(tmp_path / "reviews",
                                               partition_cols=["year", "marketplace"],
                                               table="sales.reviews")
    table = sl.catalog.describe_table("sales.reviews")
    assert table["location"] == str(tmp_path / "reviews")
    assert table["partition_cols"] == ["year", "marketplace"]
    assert table["schema"] == data.schema
    assert table["rows"] == 2000 and table["files"] == len(result["files"])
    assert table["bytes"] == result["bytes"]
    expected = sorted({f"year={y}/marketplace={m}" for y, m in
                       zip(data["year"].to_pylist(), data["marketplace"].to_pylist())})
    partitions = sl.catalog.list_partitions("sales.reviews")
    assert specs(partitions) == expected
    assert sum(p["rows"] for p in partitions) == 2000
    on_disk = sorted(str(p.parent.relative_to(tmp_path / "reviews"))
                     for p in (tmp_path / "reviews").rglob("*.parquet"))
    assert sorted(set(on_disk)) == expected

    chosen = sl.catalog.list_partitions("sales.reviews",
                                        "year = 2015 AND marketplace IN ('US','UK')")
    assert specs(chosen) == [s for s in expected
                             if s.startswith("year=2015/") and s[-2:] in ("US", "UK")]
    same = sl.catalog.list_partitions(
        "sales.reviews", (sl.col("year") == 2015) & sl.col("marketplace").is_in(["US", "UK"]))
    assert specs(same) == specs(chosen)
    with pytest.raises(ValueError, match="only use the partition columns"):
        sl.catalog.list_partitions("sales.reviews", "stars = 5")
    with pytest.raises(ValueError, match="cannot parse filter"):
        sl.catalog.list_partitions("sales.reviews", "year = = 2015")
    assert [t["name"] for t in sl.catalog.list_tables("sales")] == ["sales.reviews"]
    assert sl.catalog.list_databases()[-1]["name"] == "sales"
    assert sl.catalog.history("sales.reviews")[0]["operation"] == "create"


def test_read_table_prunes_partitions_from_the_catalog(tmp_path, catalog_file):
    data = reviews(3000)
    location = tmp_path / "t"
    sl.from_arrow(data).write_parquet(location, partition_cols=["year", "marketplace"],
                                      table="t")
    expected = pads.dataset(data).to_table(
        filter=(pads.field("year") == 2015) & pads.field("marketplace").isin(["US", "UK"])
        & (pads.field("stars") >= 3))
    got = sl.read_table("t", filter="year = 2015 AND marketplace IN ('US','UK') AND stars >= 3")
    assert rows_of(got.to_arrow()) == rows_of(expected)
    assert got.schema().field("year").type == pa.int64()  # the catalog's type, not inferred
    narrow = sl.read_table("t", columns=["review_id", "stars"], filter="marketplace = 'JP'")
    assert narrow.schema().names == ["review_id", "stars"]
    assert narrow.count() == sum(1 for m in data["marketplace"].to_pylist() if m == "JP")

    # Pruned partitions are never opened: damage one the filter rules out.
    victim = next((location / "year=2013" / "marketplace=DE").glob("*.parquet"))
    victim.write_bytes(b"not parquet")
    assert sl.read_table("t", filter="year = 2015").count() == \
        sum(1 for y in data["year"].to_pylist() if y == 2015)
    with pytest.raises(sl.SluiceError, match="marketplace=DE"):
        sl.read_table("t").count()
    # Files the manifest does not list are not read either.
    stray = location / "year=2015" / "marketplace=US" / "stray.parquet"
    pq.write_table(data.slice(0, 5).drop_columns(["year", "marketplace"]), stray)
    assert sl.read_table("t", filter="year = 2015").count() == \
        sum(1 for y in data["year"].to_pylist() if y == 2015)
    with pytest.raises(NotInCatalogError, match="'default.nope' does not exist"):
        sl.read_table("nope")


def test_modes_rerun_and_overwrite_partitions(tmp_path, catalog_file):
    location = tmp_path / "m"
    first = reviews(1000)
    sl.from_arrow(first).write_parquet(location, partition_cols=["marketplace"], table="db.m")
    before = {p["spec"]: p for p in sl.catalog.list_partitions("db.m")}
    # Re-running an overwrite_partitions write replaces, never duplicates.
    us_only = first.filter(pa.compute.equal(first["marketplace"], "US"))
    for _ in range(2):
        sl.from_arrow(us_only).write_parquet(table="db.m", mode="overwrite_partitions")
    after = {p["spec"]: p for p in sl.catalog.list_partitions("db.m")}
    assert after.keys() == before.keys()
    assert after["marketplace=US"]["rows"] == us_only.num_rows
    assert after["marketplace=US"]["version"] == 3
    assert after["marketplace=UK"]["version"] == before["marketplace=UK"]["version"] == 1
    assert sl.read_table("db.m").count() == 1000
    # Append adds rows to the same partitions.
    sl.from_arrow(first).write_parquet(table="db.m", mode="append")
    assert sl.read_table("db.m").count() == 2000
    assert len(sl.catalog.list_partitions("db.m")) == 5
    assert sl.catalog.describe_table("db.m")["rows"] == 2000
    history = sl.catalog.history("db.m")
    assert [h["operation"] for h in history] == ["append", "overwrite_partitions",
                                                  "overwrite_partitions", "create"]
    assert history[1]["partitions"] == ["marketplace=US"]
    # Mode error refuses an existing table; the path must be the table's.
    with pytest.raises(OSError, match="already exists"):
        sl.from_arrow(first).write_parquet(table="db.m")
    with pytest.raises(ValueError, match="is stored at"):
        sl.from_arrow(first).write_parquet(tmp_path / "elsewhere", table="db.m", mode="append")
    with pytest.raises(ValueError, match="partitioned by"):
        sl.from_arrow(first).write_parquet(table="db.m", mode="append", partition_cols=["year"])
    with pytest.raises(ValueError, match="give the path"):
        sl.from_arrow(first).write_parquet(table="db.new_one")
    sl.catalog.create_database("lake", location=str(tmp_path / "lake"))
    sl.from_arrow(first).write_parquet(table="lake.events")
    assert sl.catalog.describe_table("lake.events")["location"] == str(tmp_path / "lake" / "events")


def test_schema_evolution(tmp_path, catalog_file):
    location = tmp_path / "e"
    base = reviews(500)
    sl.from_arrow(base).write_parquet(location, partition_cols=["year"], table="e")
    # New rows only in years 2014-2016: partition year=2013 has no file with the column.
    newer = reviews(500, offset=500)
    newer = newer.filter(pa.compute.not_equal(newer["year"], 2013))
    wider = newer.append_column("helpful", pa.array([7] * newer.num_rows, pa.int32()))
    sl.from_arrow(wider).write_parquet(table="e", mode="append")
    schema = sl.catalog.describe_table("e")["schema"]
    assert schema.field("helpful").type == pa.int32() and schema.field("helpful").nullable
    assert sl.catalog.history("e")[0]["schema_change"] == "added columns: helpful (int32)"
    table = sl.read_table("e").to_arrow()
    assert table.num_rows == 500 + newer.num_rows
    assert table.schema.names == ["review_id", "stars", "year", "marketplace", "helpful"]
    assert sorted(table["helpful"].to_pylist(), key=lambda v: (v is None, v)) == \
        [7] * newer.num_rows + [None] * 500
    # Partitions written before the column existed still read it (as nulls).
    old_only = sl.read_table("e", filter="year = 2013").to_arrow()
    assert old_only.num_rows == 125 and set(old_only["helpful"].to_pylist()) == {None}
    assert old_only.schema.field("helpful").type == pa.int32()
    files_before = sorted(location.rglob("*.parquet"))
    wrong = base.set_column(1, "stars", pa.array([str(s) for s in base["stars"].to_pylist()]))
    with pytest.raises(SluiceTypeError, match="column 'stars' of table 'default.e' is int64 but "
                                              "the data has string"):
        sl.from_arrow(wrong).write_parquet(table="e", mode="append")
    assert sorted(location.rglob("*.parquet")) == files_before
    assert sl.catalog.describe_table("e")["version"] == 2


def test_catalog_catches_up_with_a_commit_it_missed(tmp_path, catalog_file):
    location = tmp_path / "r"
    sl.from_arrow(reviews(100)).write_parquet(location, partition_cols=["year"], table="r")
    # A write straight to the path (as if the process died after the commit point and
    # before registering) moves the manifest ahead of the catalog.
    sl.from_arrow(reviews(50, offset=100)).write_parquet(location, partition_cols=["year"],
                                                         mode="append")
    assert sl.catalog.describe_table("r")["rows"] == 100
    assert sl.read_table("r").count() == 150
    assert sl.catalog.describe_table("r")["rows"] == 150
    assert sl.catalog.history("r")[0]["operation"] == "repair"


def write_hive_dataset(root, table, filesystem=None):
    pq.write_to_dataset(table, root, partition_cols=["year", "marketplace"], filesystem=filesystem)


@pytest.mark.parametrize("where", ["local", "s3"])
def test_crawl_registers_existing_data_and_then_only_new_partitions(where, tmp_path, request,
                                                                    catalog_file):
    data = reviews(1500)
    old, new = data.filter(pa.compute.less(data["year"], 2016)), \
        data.filter(pa.compute.equal(data["year"], 2016))
    if where == "s3":
        bucket = request.getfixturevalue("s3_bucket")
        server = request.getfixturevalue("s3_server")
        filesystem, root, path = server.filesystem(), bucket[5:] + "/crawl", bucket + "/crawl"
    else:
        filesystem, root = pafs.LocalFileSystem(), str(tmp_path / "crawl")
        path = root
    write_hive_dataset(root, old, filesystem)
    first = sl.catalog.crawl(path, "raw.reviews")
    assert first["created"] and len(first["added_partitions"]) == 15
    table = sl.catalog.describe_table("raw.reviews")
    assert table["partition_cols"] == ["year", "marketplace"] and table["rows"] == old.num_rows
    assert sl.read_table("raw.reviews", filter="year = 2014").count() == \
        sum(1 for y in old["year"].to_pylist() if y == 2014)

    write_hive_dataset(root, new, filesystem)
    second = sl.catalog.crawl(path, "raw.reviews")
    assert not second["created"]
    assert sorted(second["added_partitions"]) == sorted(
        f"year=2016/marketplace={m}" for m in set(new["marketplace"].to_pylist()))
    assert second["unchanged_partitions"] == 15
    assert sl.catalog.history("raw.reviews")[0]["operation"] == "crawl"
    assert sl.read_table("raw.reviews").count() == 1500
    assert sl.catalog.crawl(path, "raw.reviews")["added_partitions"] == []


def test_cli_catalog_and_crawl(tmp_path, catalog_file):
    sl.from_arrow(reviews(800)).write_parquet(tmp_path / "c", partition_cols=["year"],
                                              table="shop.reviews")
    env = dict(os.environ, SLUICE_PROGRESS="0")

    def run(*args, expect=0):
        done = subprocess.run([SLUICE, *args], env=env, capture_output=True, text=True)
        assert done.returncode == expect, done.stderr
        return done.stdout + done.stderr

    assert "shop" in run("catalog", "databases")
    assert "shop.reviews" in run("catalog", "tables", "shop")
    described = run("catalog", "describe", "shop.reviews")
    assert "rows:         800" in described and "year: int64  (partition)" in described
    listed = run("catalog", "partitions", "shop.reviews", "--filter", "year IN (2013, 2014)")
    assert "year=2013" in listed and "year=2014" in listed and "year=2015" not in listed
    assert "2 partitions" in listed
    assert "create" in run("catalog", "history", "shop.reviews")
    assert "does not exist" in run("catalog", "describe", "shop.nope", expect=1)
    assert "unknown action" in run("catalog", "frobnicate", expect=2)
    pq.write_to_dataset(reviews(100), tmp_path / "other", partition_cols=["marketplace"])
    assert "created raw.other: 5 new partitions" in run("crawl", str(tmp_path / "other"),
                                                        "--table", "raw.other")
    assert "0 new partitions, 5 already registered" in run("crawl", str(tmp_path / "other"),
                                                           "--table", "raw.other")
    assert "dropped table" in run("catalog", "drop-table", "raw.other")
    assert (tmp_path / "other").exists()
    assert "created table shop.events" in run("catalog", "create-table", "shop.events",
                                              "--location", str(tmp_path / "events"),
                                              "--partition-cols", "year",
                                              "--parameter", "owner=etl")
    sl.from_arrow(reviews(50)).write_parquet(table="shop.events")
    events = sl.catalog.describe_table("shop.events")
    assert events["partition_cols"] == ["year"] and events["parameters"] == {"owner": "etl"}
    assert events["rows"] == 50 and events["partitions"] == 4
    assert "needs --location" in run("catalog", "create-table", "shop.x", expect=2)
    assert "dropped database" in run("catalog", "drop-database", "raw", "--cascade")


def run_concurrent_writers(path, table, markets, rows, tmp_path):
    go = tmp_path / f"go-{markets[0]}"
    writers = [subprocess.Popen([sys.executable, WRITER, path, table, market, str(go), str(rows)],
                                stderr=subprocess.PIPE, text=True) for market in markets]
    import time
    time.sleep(1.5)  # every writer imported sluice and is polling
    go.touch()
    for writer in writers:
        _, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err


@pytest.mark.parametrize("where", ["local", "s3"])
def test_concurrent_writers_to_different_partitions_both_register(where, tmp_path, request,
                                                                  catalog_file):
    if where == "s3":
        bucket = request.getfixturevalue("s3_bucket")
        env_endpoint = sl.current_config()["s3_endpoint"]
        os.environ["SLUICE_S3_ENDPOINT"] = env_endpoint
        path = bucket + "/concurrent"
    else:
        path = str(tmp_path / "concurrent")
    try:
        sl.catalog.create_database("c")
        rounds = [["US", "UK"], ["DE", "FR", "JP", "US"], ["UK", "DE"]]
        written = {}
        for markets in rounds:
            run_concurrent_writers(path, "c.t", markets, 120, tmp_path)
            for market in markets:
                written[market] = written.get(market, 0) + 120
        partitions = {p["values"]["market"]: p for p in sl.catalog.list_partitions("c.t")}
        assert {m: p["rows"] for m, p in partitions.items()} == written
        table = sl.read_table("c.t").to_arrow()
        assert table.num_rows == sum(written.values())
        history = sl.catalog.history("c.t")
        assert len(history) == sum(len(r) for r in rounds)
        assert sorted(h["version"] for h in history) == list(range(1, len(history) + 1))
        # The catalog agrees with storage: same partitions, same files.
        assert sl.read_parquet(path).count() == table.num_rows
        assert sum(p["files"] for p in partitions.values()) == \
            sl.catalog.describe_table("c.t")["files"]
    finally:
        os.environ.pop("SLUICE_S3_ENDPOINT", None)


@pytest.mark.parametrize("table, column, damaged, read", [
    ("tables", "partition_cols", '["year"', sl.catalog.describe_table),
    ("tables", "partition_cols", '{"year": 1}', sl.catalog.list_partitions),
    ("tables", "parameters", '["not", "a", "map"]', sl.catalog.describe_table),
    ("partitions", "values_json", '[["year"]]', sl.catalog.list_partitions),
    ("table_versions", "partitions", "1e999999", sl.catalog.history),
])
def test_damaged_json_in_the_catalog_is_an_error_naming_the_entry(tmp_path, catalog_file, table,
                                                                   column, damaged, read):
    # Seen while writing cpp/fuzz/catalog_json_fuzzer: a damaged tables.partition_cols or
    # parameters value threw nlohmann's exception out of the engine: a bare RuntimeError
    # here, an abort for C++ callers.
    import sqlite3
    sl.from_arrow(reviews(50)).write_parquet(tmp_path / "t", partition_cols=["year"],
                                             table="default.t")
    db = sqlite3.connect(catalog_file)
    with db:
        db.execute(f"UPDATE {table} SET {column} = ?", (damaged,))
    db.close()
    with pytest.raises(sl.errors.SluiceIOError, match="has a damaged catalog entry"):
        read("default.t")
