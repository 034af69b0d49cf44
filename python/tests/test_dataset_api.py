"""The Dataset API on small in-memory data, checked against pyarrow and pandas."""

import threading

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import sluice as sl


@pytest.fixture()
def table():
    n = 10_000
    rng = np.random.default_rng(1)
    return pa.table({
        "id": pa.array(np.arange(n)),
        "group": pa.array(rng.choice(["a", "b", "c", None], n)),
        "x": pa.array(rng.normal(size=n)),
        "k": pa.array(rng.integers(0, 50, n), pa.int32()),
    })


def test_constructors():
    assert sl.range(5).take_all() == [{"id": i} for i in range(5)]
    assert sl.from_items([{"a": 1}, {"a": 2}]).take_all() == [{"a": 1}, {"a": 2}]
    assert sl.from_items([1, 2]).take_all() == [{"item": 1}, {"item": 2}]
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    assert sl.from_pandas(df).to_pandas().equals(df.astype({"b": "str"})) or \
        sl.from_pandas(df).to_arrow().to_pylist() == df.to_dict("records")
    assert sl.from_numpy(np.arange(3)).take_all() == [{"data": 0}, {"data": 1}, {"data": 2}]
    assert sl.range(0).count() == 0


def test_range_order_and_count_are_exact():
    ds = sl.range(1_000_003)
    assert ds.count() == 1_000_003
    ids = ds.to_arrow()["id"]
    assert pc.all(pc.equal(ids, pa.array(np.arange(1_000_003)))).as_py()


def test_select_drop_rename(table):
    ds = sl.from_arrow(table)
    assert ds.select_columns(["x", "id"]).columns() == ["x", "id"]
    assert ds.drop_columns(["x"]).columns() == ["id", "group", "k"]
    renamed = ds.rename_columns({"x": "value"})
    assert renamed.columns() == ["id", "group", "value", "k"]
    assert renamed.to_arrow()["value"].equals(table["x"])
    with pytest.raises(sl.errors.ColumnNotFoundError, match="nope"):
        ds.select_columns(["nope"])


def test_expressions_match_pyarrow(table):
    ds = sl.from_arrow(table)
    out = ds.add_column("y", (sl.col("k") * 2 + 1) / sl.lit(4)) \
        .filter((sl.col("x") > 0) & sl.col("group").isin(["a", "b"]) & ~sl.col("group").is_null()) \
        .to_arrow()
    mask = pc.and_(pc.greater(table["x"], 0), pc.is_in(table["group"], pa.array(["a", "b"])))
    expected = table.filter(mask)
    assert out["id"].to_pylist() == expected["id"].to_pylist()
    want = pc.divide(pc.cast(pc.add(pc.multiply(expected["k"], 2), 1), pa.float64()), 4.0)
    assert out["y"].to_pylist() == want.to_pylist()


def test_string_expressions():
    ds = sl.from_items([{"s": "Hello World"}, {"s": "hello"}, {"s": None}, {"s": "Bye"}])
    assert ds.filter(sl.col("s").str.contains("ello")).count() == 2
    assert ds.filter(sl.col("s").str.starts_with("h", ignore_case=True)).count() == 2
    lowered = ds.add_column("l", sl.col("s").str.lower()).add_column("n", sl.col("s").str.length())
    rows = lowered.take_all()
    assert rows[0]["l"] == "hello world" and rows[0]["n"] == 11
    assert rows[2]["l"] is None
    cast = ds.add_column("len", sl.col("s").str.length().cast("float64")).schema()
    assert cast.field("len").type == pa.float64()


def test_expression_errors():
    ds = sl.range(10)
    with pytest.raises(sl.errors.ColumnNotFoundError, match="'missing'"):
        ds.filter(sl.col("missing") > 1)
    with pytest.raises(sl.errors.SluiceTypeError, match="boolean"):
        ds.filter(sl.col("id") + 1)
    with pytest.raises(TypeError, match="truth value"):
        bool(sl.col("id") > 1)


@pytest.mark.parametrize("fmt", ["pandas", "pyarrow", "numpy"])
def test_map_batches_formats_and_batch_size(table, fmt):
    sizes = []

    def double(batch):
        if fmt == "pandas":
            sizes.append(len(batch))
            batch["x"] = batch["x"] * 2
            return batch
        if fmt == "pyarrow":
            sizes.append(batch.num_rows)
            return batch.set_column(batch.schema.get_field_index("x"), "x", pc.multiply(batch["x"], 2))
        sizes.append(len(batch["x"]))
        batch["x"] = batch["x"] * 2
        return batch

    out = sl.from_arrow(table).map_batches(double, batch_format=fmt, batch_size=1000).to_arrow()
    assert out["x"].to_pylist() == pc.multiply(table["x"], 2).to_pylist()
    assert max(sizes) <= 1000 and sum(sizes) == table.num_rows


def test_map_batches_args_and_fusion(table):
    def add(batch, amount, *, scale):
        batch["k"] = (batch["k"] + amount) * scale
        return batch

    ds = sl.from_arrow(table).map_batches(add, fn_args=(1,), fn_kwargs={"scale": 3}) \
        .map_batches(lambda b: b[b["k"] % 2 == 0])
    assert "->" in ds.explain_string().split("Optimized plan")[1]
    expected = [(k + 1) * 3 for k in table["k"].to_pylist() if ((k + 1) * 3) % 2 == 0]
    assert ds.to_arrow()["k"].to_pylist() == expected


def test_actor_pool_constructs_once_per_actor(table):
    constructed = []

    class Model:
        def __init__(self, offset):
            constructed.append(threading.get_ident())
            self.offset = offset

        def __call__(self, batch):
            batch["k"] = batch["k"] + self.offset
            return batch

    out = sl.from_arrow(table).map_batches(Model, compute=sl.ActorPoolStrategy(min_size=2, max_size=3),
                                           fn_constructor_args=(10,), batch_size=100).to_arrow()
    assert out["k"].to_pylist() == [k + 10 for k in table["k"].to_pylist()]
    assert 2 <= len(constructed) <= 3  # once per actor, not per batch (100 batches)


def test_filter_row_function_type_error():
    with pytest.raises(TypeError, match="must return a bool"):
        sl.range(10).filter(lambda row: "yes").count()


def test_udf_exception_keeps_its_type_and_names_the_step():
    def explode(batch):
        raise ValueError("bad batch")

    with pytest.raises(ValueError, match="bad batch") as info:
        sl.range(100).map_batches(explode).to_arrow()
    assert any("MapBatches(" in note and "explode" in note for note in info.value.__notes__)


def test_limit_union_repartition(tmp_path):
    ds = sl.range(100)
    assert ds.limit(7).take_all() == [{"id": i} for i in range(7)]
    assert ds.limit(0).count() == 0
    both = ds.union(sl.range(5))
    assert both.count() == 105
    assert both.to_arrow()["id"].to_pylist() == list(range(100)) + list(range(5))
    result = ds.repartition(4).write_parquet(tmp_path / "parts")
    assert len(result["files"]) == 4
    assert [pq.read_metadata(f).num_rows for f in sorted(result["files"])] == [25, 25, 25, 25]
    with pytest.raises(sl.errors.SluiceTypeError, match="schemas differ"):
        ds.union(sl.from_items([{"other": 1}]))


def test_iter_batches_and_rows(table):
    ds = sl.from_arrow(table)
    sizes = [len(b["id"]) for b in ds.iter_batches(batch_size=3000)]
    assert sizes == [3000, 3000, 3000, 1000]
    frames = list(ds.iter_batches(batch_size=4096, batch_format="pandas"))
    assert isinstance(frames[0], pd.DataFrame)
    assert pd.concat(frames)["id"].tolist() == table["id"].to_pylist()
    assert next(iter(ds.iter_rows()))["id"] == 0
    assert ds.take(3) == table.slice(0, 3).to_pylist()


def test_arrow_stream_consumers(table):
    import duckdb
    import polars as pl

    ds = sl.from_arrow(table).filter(sl.col("k") < 10)
    expected = table.filter(pc.less(table["k"], 10))
    assert pa.table(ds).equals(expected)
    assert pl.DataFrame(ds).height == expected.num_rows
    con = duckdb.connect()
    assert con.sql("select count(*) from ds").fetchall()[0][0] == expected.num_rows


def test_explain_and_stats(table):
    ds = sl.from_arrow(table).filter(sl.col("k") > 3).select_columns(["id"])
    text = ds.explain_string()
    assert "Optimized plan" in text and "Filter" in text
    result = ds.to_arrow()
    stats = ds.stats()
    assert "rows out" in stats and "Filter" in stats
    ops = ds.stats_dict()["operators"]
    assert ops[0]["rows_out"] == table.num_rows
    assert ds.stats_dict()["rows_out"] == result.num_rows < table.num_rows


def test_write_round_trips_and_modes(table, tmp_path):
    ds = sl.from_arrow(table)
    target = tmp_path / "pq"
    ds.write_parquet(target, partition_cols=["group"])
    back = pq.read_table(target)
    assert back.num_rows == table.num_rows
    assert sorted(p.name for p in target.iterdir() if not p.name.startswith("_"))[0].startswith("group=")
    with pytest.raises(sl.errors.SluiceIOError, match="not empty"):
        ds.write_parquet(target, partition_cols=["group"])
    ds.limit(10).write_parquet(target, mode="overwrite")
    assert pq.read_table(target).num_rows == 10
    ds.limit(5).write_parquet(target, mode="append")
    assert pq.read_table(target).num_rows == 15

    csv_result = ds.write_csv(tmp_path / "csv")
    import pyarrow.csv as pcsv
    csv_back = pa.concat_tables([pcsv.read_csv(f) for f in sorted(csv_result["files"])])
    assert csv_back["id"].to_pylist() == table["id"].to_pylist()

    json_result = ds.write_json(tmp_path / "json")
    import pyarrow.json as pjson
    json_back = pa.concat_tables([pjson.read_json(f) for f in sorted(json_result["files"])])
    assert json_back["x"].to_pylist() == table["x"].to_pylist()
    assert sl.read_json(str(tmp_path / "json")).count() == table.num_rows


def test_failed_write_leaves_nothing(tmp_path):
    def fail_late(batch):
        if batch["id"].iloc[0] >= 5000:
            raise RuntimeError("disk on fire")
        return batch

    target = tmp_path / "out"
    with pytest.raises(RuntimeError, match="disk on fire"):
        sl.range(20000).map_batches(fail_late).write_parquet(target)
    assert not target.exists() or not any(target.iterdir())


def test_job_args_parsing():
    assert sl.job_args(["--input", "a", "--flag", "--out-dir=b"]) == {
        "input": "a", "flag": "true", "out_dir": "b"}


def test_udf_returning_a_multi_chunk_table_keeps_every_row():
    def split_in_chunks(batch):
        return pa.concat_tables([batch.slice(0, 3), batch.slice(3)])  # two chunks

    out = sl.range(1000).map_batches(split_in_chunks, batch_format="pyarrow", batch_size=100)
    assert out.to_arrow()["id"].to_pylist() == list(range(1000))


def test_count_when_no_column_is_needed():
    # A filter that reads no column prunes every column of the in-memory source; its
    # slices must still have the right length.
    ds = sl.from_items([{"a": 1}, {"a": 2}, {"a": 3}])
    assert ds.filter(sl.lit(True)).count() == 3
    assert ds.filter(sl.lit(False)).count() == 0


def test_a_write_is_a_plan_node_that_explain_shows(table, tmp_path):
    ds = sl.from_arrow(table).filter(sl.col("k") > 3)
    target = tmp_path / "out"
    text = ds.write_parquet(target, partition_cols=["k"], mode="overwrite", explain=True)
    optimized = text.split("== Optimized plan ==")[1]
    lines = optimized.strip().splitlines()
    assert lines[0] == (f"WriteParquet[{target} mode=overwrite partition_cols=[k] "
                        "compression=snappy]"), text
    assert lines[1].strip() == "+- Filter((k > 3))"  # the plan below the write
    assert not target.exists()  # explaining writes nothing
    assert "WriteJson[" in ds.write_json(target, compression="gzip", explain=True)
    with pytest.raises(sl.SluiceError, match="unknown compression"):
        ds.write_csv(target, compression="lzma")  # checked when the write runs
    written = ds.write_parquet(target, partition_cols=["k"], mode="overwrite")
    assert written["rows"] == sum(1 for k in table["k"].to_pylist() if k > 3)
    assert ds.stats_dict()["operators"][-1]["name"].startswith("WriteParquet[")
