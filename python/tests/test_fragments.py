"""Plans cut into fragments and run fragment by fragment (issue 13 point 4): every task
runs from its plan's bytes on splits or on the outputs of other fragments, and the result
is the single-process one, for the benchmark's workloads, joins, group-bys, sorts,
limits, repartitions, unions and writes."""

import math
import os

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import sluice as sl
from sluice import fragments as fr
from sluice.dataset import _from_plan_bytes

# Small splits and many partitions, so every fragment runs as many tasks.
SPLIT_BYTES = 64 << 10


def assert_same_rows(got: pa.Table, expected: pa.Table, ordered: bool = True):
    """Equal schemas and values; floats to 1e-12 relative (sums of partial sums add in
    another order), everything else exactly. Unordered: compared sorted on all columns."""
    assert got.schema == expected.schema
    assert got.num_rows == expected.num_rows
    if not ordered:
        keys = [(name, "ascending") for name in expected.column_names
                if not pa.types.is_floating(expected.schema.field(name).type)]
        got, expected = got.sort_by(keys), expected.sort_by(keys)
    for name in expected.column_names:
        a, b = got[name].to_pylist(), expected[name].to_pylist()
        if pa.types.is_floating(expected.schema.field(name).type):
            for x, y in zip(a, b):
                assert (x is None) == (y is None), name
                if x is not None and not (math.isnan(x) and math.isnan(y)):
                    assert x == pytest.approx(y, rel=1e-12, abs=1e-12), name
        else:
            assert a == b, name


def run_both(ds, **kwargs):
    options = {"hash_partitions": 3, "split_bytes": SPLIT_BYTES}
    options.update(kwargs)
    return fr.run_locally(ds, **options), ds.to_arrow()


# ---- the benchmark's workloads (bench/engines/sluice_engine.py), on 20k reviews

def test_w1_filter_and_sort(reviews):
    ds = sl.read_parquet(reviews / "parquet")
    ds = ds.add_column("helpful_votes_ratio", sl.col("helpful_votes") / sl.col("total_votes"))
    ds = ds.filter(sl.col("total_votes") < 100)
    ds = ds.filter((sl.col("total_votes") > 0) & (sl.col("marketplace") == "US"))
    got, expected = run_both(ds.sort("total_votes"))
    assert expected.num_rows > 1000
    assert_same_rows(got, expected)  # a stable sort: ties keep their order in both


def test_w1_with_pandas_functions(reviews):
    ds = sl.read_parquet(reviews / "parquet")
    ds = ds.add_column("ratio", lambda df: df["helpful_votes"] / df["total_votes"])
    ds = ds.map_batches(lambda df: df[df["total_votes"] < 100])
    ds = ds.filter(lambda row: row["total_votes"] > 0 and row["marketplace"] == "US")
    got, expected = run_both(ds.sort("total_votes"))
    assert_same_rows(got, expected)


def test_w2_csv_to_rows_in_file_order(reviews):
    ds = sl.read_csv(reviews / "tsv", delimiter="\t")
    got, expected = run_both(ds)
    assert_same_rows(got, expected)


def test_w3_text_search_counted_by_file(reviews):
    ds = sl.read_text(reviews / "text", include_paths=True, drop_empty_lines=False)
    ds = ds.filter(sl.col("text").str.contains("great")).groupby("path").count()
    got, expected = run_both(ds)
    assert expected.num_rows == 4
    assert_same_rows(got, expected)  # groups come out in key order in both


def test_w4_group_by_two_keys(reviews):
    ds = sl.read_parquet(reviews / "parquet")
    ratio = sl.when(sl.col("total_votes") > 0,
                    sl.col("helpful_votes") / sl.col("total_votes"), None)
    ds = ds.add_column("ratio", ratio).groupby(["product_category", "star_rating"]).aggregate(
        sl.Count(), sl.Mean("star_rating"), sl.Sum("helpful_votes"), sl.Mean("ratio"),
        sl.Min("review_date"), sl.Max("product_id"))
    got, expected = run_both(ds)
    assert expected.num_rows > 20
    assert_same_rows(got, expected)


def test_w5_partitioned_write(reviews, tmp_path):
    ds = sl.read_parquet(reviews / "parquet")
    ds = ds.add_column("year", sl.col("review_date").dt.year())
    one = tmp_path / "one"
    many = tmp_path / "many"
    ds.write_parquet(str(one), partition_cols=["marketplace", "year"])
    result = fr.run_locally(ds, hash_partitions=3, split_bytes=SPLIT_BYTES, write={
        "format": "parquet", "path": many, "partition_cols": ["marketplace", "year"]})
    assert result["rows"] == 20000
    assert all(f.startswith(str(many)) for f in result["files"])
    expected = sl.read_parquet(str(one)).to_arrow()
    got = sl.read_parquet(str(many)).to_arrow()
    assert_same_rows(got, expected, ordered=False)
    # Same partition directories; no staging directory left behind.
    dirs = lambda root: sorted(os.path.relpath(d, root) for d, _, files in os.walk(root) if files)
    assert dirs(many) == dirs(one)
    assert not [n for n in os.listdir(many) if n.startswith("_sluice_staging")]


def test_w6_sort_and_write(reviews, tmp_path):
    ds = sl.read_parquet(reviews / "parquet").sort(["product_id", "review_date"])
    ds.write_parquet(str(tmp_path / "one"))
    result = fr.run_locally(ds, hash_partitions=4, split_bytes=SPLIT_BYTES,
                            write={"format": "parquet", "path": tmp_path / "many"})
    assert result["rows"] == 20000
    # Files named in task order: reading them back in name order gives the sorted rows.
    got = sl.read_parquet(str(tmp_path / "many")).to_arrow()
    expected = sl.read_parquet(str(tmp_path / "one")).to_arrow()
    assert_same_rows(got, expected)
    assert got["product_id"].to_pylist() == sorted(got["product_id"].to_pylist())


# ---- joins, group-bys, sorts, limits, repartitions, unions

@pytest.fixture(scope="module")
def tables():
    left = pa.table({
        "k": pa.array([i % 37 if i % 11 else None for i in range(3000)], pa.int64()),
        "g": [f"g{i % 5}" for i in range(3000)],
        "x": [float(i % 101) / 7 if i % 13 else None for i in range(3000)],
        "n": list(range(3000)),
    })
    right = pa.table({
        "k": pa.array([i % 50 for i in range(200)], pa.int32()),  # int32 meets int64
        "label": [f"r{i}" for i in range(200)],
    })
    return left, right


@pytest.mark.parametrize("how", ["inner", "left", "right", "outer", "semi", "anti"])
def test_joins(tables, how):
    left, right = tables
    ds = sl.from_arrow(left).join(sl.from_arrow(right), on="k", how=how)
    got, expected = run_both(ds, hash_partitions=4)
    assert_same_rows(got, expected, ordered=False)  # a join's order is not defined


def test_group_bys_of_every_aggregate(tables):
    left, _ = tables
    ds = sl.from_arrow(left)
    combining = ds.groupby(["g", "k"]).aggregate(
        sl.Count(), sl.Count("x"), sl.Sum("x"), sl.Mean("x"), sl.Min("x"), sl.Max("n"),
        sl.Sum("n"))
    got, expected = run_both(combining)
    assert_same_rows(got, expected)  # nulls last in both
    # std, var and count_distinct exchange rows instead of partials.
    rows = ds.groupby("g").aggregate(sl.Std("x"), sl.Var("n"), sl.CountDistinct("k"))
    assert "__sluice_partial" not in fr.cut(rows).explain()
    got, expected = run_both(rows)
    assert_same_rows(got, expected)
    # Without keys: one group, gathered.
    got, expected = run_both(ds.groupby(None).aggregate(sl.Count(), sl.Mean("x"), sl.Sum("n")))
    assert_same_rows(got, expected)
    # ... also over nothing at all: count 0, sums null.
    nothing = ds.filter(sl.col("n") < 0).groupby(None).aggregate(sl.Count(), sl.Sum("n"))
    got, expected = run_both(nothing)
    assert got.to_pylist() == [{"count()": 0, "sum(n)": None}]
    assert_same_rows(got, expected)


def test_sorts_limits_and_first_last(tables):
    left, _ = tables
    ds = sl.from_arrow(left)
    for plan in [ds.sort(["g", "x"], descending=[True, False]),
                 ds.sort("k"),
                 ds.sort("x", descending=True).limit(17),
                 ds.limit(5),
                 ds.filter(sl.col("n") > 2990).limit(100),
                 ds.groupby("g").aggregate(sl.First("n"), sl.Last("x"))]:
        got, expected = run_both(plan, hash_partitions=4)
        assert_same_rows(got, expected)


def test_repartitions_and_unions(tables):
    left, _ = tables
    ds = sl.from_arrow(left)
    for plan in [ds.repartition(5),
                 ds.repartition(3, keys=["g"]),
                 ds.union(ds.filter(sl.col("n") < 10)),
                 ds.sort("n", descending=True).limit(3).union(ds.limit(2), sl.range(4).map(
                     lambda r: {"k": r["id"], "g": "z", "x": 0.5, "n": -1}))]:
        got, expected = run_both(plan)
        assert_same_rows(got, expected)


def test_parquet_splits_are_row_groups_and_skip_what_statistics_rule_out(tmp_path):
    for i in range(2):
        pq.write_table(pa.table({"a": list(range(i * 1000, (i + 1) * 1000))}),
                       tmp_path / f"{i}.parquet", row_group_size=100)
    ds = sl.read_parquet(str(tmp_path)).filter(sl.col("a") >= 1750)
    plan = fr.cut(ds)
    splits = plan.list_splits(0, 0, target_bytes=1)  # one row group each
    assert [s["label"].rsplit(" ", 1)[-1] for s in splits] == ["7", "8", "9"]
    whole = plan.list_splits(0, 0, target_bytes=1 << 30)
    assert len(whole) == 1 and whole[0]["label"].endswith("row groups 7-9")
    got = fr.run_task(plan.fragments[0].plan, splits=[splits[1:2]])[0]
    assert got["a"].to_pylist() == list(range(1800, 1900))
    # Counts from the footers of a split's row groups.
    unfiltered = fr.cut(sl.read_parquet(str(tmp_path)))
    assert sum(s["rows"] for s in unfiltered.list_splits(0, 0, 1)) == 2000


def test_damaged_splits_and_plans_are_errors_not_crashes(tmp_path):
    pq.write_table(pa.table({"a": [1, 2]}), tmp_path / "a.parquet")
    plan = fr.cut(sl.read_parquet(str(tmp_path)))
    fragment = plan.fragments[0].plan
    bad_splits = [{"label": "x", "payload": "not json"},
                  {"label": "x", "payload": '{"path": "/elsewhere.parquet", "row_groups": [0]}'},
                  {"label": "x", "payload": f'{{"path": "{tmp_path}/a.parquet", "row_groups": [7]}}'}]
    for split in bad_splits:
        with pytest.raises(sl.SluiceError):
            fr.run_task(fragment, splits=[[split]])
    # (Source payloads are base64 inside the plan: another kind's reader gets this one's.)
    for damaged in [fragment.replace(b'"kind":"parquet"', b'"kind":"text"'), fragment[:-20], b"{}"]:
        with pytest.raises(sl.SluiceError):
            fr.run_task(damaged)
    with pytest.raises(sl.SluiceError, match="exchange"):
        fr.run_task(fragment, output=fr.Exchange("teleport"))


def test_every_source_round_trips_through_bytes(reviews, tmp_path):
    (tmp_path / "j.jsonl").write_text('{"a": 1, "b": "x"}\n{"a": 2, "b": null}\n')
    sources = [sl.read_parquet(reviews / "parquet"),
               sl.read_csv(reviews / "tsv", delimiter="\t", include_paths=True),
               sl.read_json(str(tmp_path / "j.jsonl")),
               sl.read_text(reviews / "text", drop_empty_lines=True),
               sl.range(10), sl.from_arrow(pa.table({"a": [1, 2]}))]
    for ds in sources:
        copy = _from_plan_bytes(ds._ds.serialize_plan())
        assert copy._ds.serialize_plan() == ds._ds.serialize_plan()
        assert copy.to_arrow().equals(ds.to_arrow())
    # A damaged source payload is an error naming the source, never a crash.
    text = sources[0]._ds.serialize_plan()
    with pytest.raises(sl.SluiceError, match="serialized"):
        _from_plan_bytes(text.replace(b'"kind":"parquet"', b'"kind":"csv"'))


def test_a_csv_write_fragmented_reads_back_like_one_written_in_one_process(reviews, tmp_path):
    ds = sl.read_csv(reviews / "tsv", delimiter="\t").filter(sl.col("star_rating") > 3)
    ds.write_csv(str(tmp_path / "one"), compression="gzip")
    result = fr.run_locally(ds, split_bytes=SPLIT_BYTES, write={
        "format": "csv", "path": tmp_path / "many", "compression": "gzip",
        "max_rows_per_file": 1000})
    assert result["rows"] == ds.count()
    assert all(f.endswith(".csv.gz") for f in result["files"])
    assert_same_rows(sl.read_csv(str(tmp_path / "many")).to_arrow(),
                     sl.read_csv(str(tmp_path / "one")).to_arrow())


def test_an_uncommitted_fragmented_write_leaves_the_target_as_it_was(tmp_path):
    target = tmp_path / "out"
    sl.range(5).write_parquet(str(target))
    before = sorted(os.listdir(target))
    plan = fr.cut_write(sl.range(100), "parquet", target, mode="overwrite")
    write = plan.begin_write()
    root = plan.fragments[-1]
    outputs = fr.run_task(root.plan, splits=[plan.list_splits(root.id, 0)], writer=write.writer)
    assert outputs[0].num_rows >= 1  # one staged file described
    del write  # never committed: aborted
    import gc
    gc.collect()
    assert sorted(os.listdir(target)) == before
    assert sl.read_parquet(str(target)).count() == 5


def test_plans_with_user_functions_and_without_columns(tables):
    left, _ = tables
    ds = sl.from_arrow(left)
    # A group-by after a Python function: the schema is unknown until it runs, so the rows
    # are exchanged and aggregated once.
    mapped = ds.map(lambda r: {"k": (r["n"] or 0) % 3, "v": r["n"]})
    got, expected = run_both(mapped.groupby("k").aggregate(sl.Sum("v"), sl.Count()))
    assert_same_rows(got, expected)
    # Tasks whose splits keep no row never run the function; others tell the schema.
    sparse = ds.filter(sl.col("n") > 2990).map(lambda r: {"n2": r["n"] * 2})
    got, expected = run_both(sparse)
    assert got.to_pylist() == expected.to_pylist() and expected.num_rows == 9
    # Counts whose inputs carry no columns keep their rows through every exchange.
    for plan in [ds.limit(5).groupby(None).aggregate(sl.Count()),
                 ds.repartition(4).groupby(None).aggregate(sl.Count()),
                 ds.limit(5).union(ds.limit(2)).groupby(None).aggregate(sl.Count())]:
        got, expected = run_both(plan)
        assert got.to_pylist() == expected.to_pylist()
    # A sort of fewer rows than partitions.
    got, expected = run_both(sl.from_arrow(left.slice(0, 3)).sort("n", descending=True),
                             hash_partitions=8)
    assert_same_rows(got, expected)


def test_a_commit_publishes_only_what_was_staged_in_its_staging_directory(tmp_path):
    plan = fr.cut_write(sl.range(10), "parquet", tmp_path / "out")
    write = plan.begin_write()
    root = plan.fragments[-1]
    outputs = fr.run_task(root.plan, splits=[plan.list_splits(root.id, 0)], writer=write.writer)
    victim = tmp_path / "elsewhere.parquet"
    pq.write_table(pa.table({"id": [1]}), victim)
    tampered = outputs[0].set_column(
        outputs[0].schema.get_field_index("staged_path"),
        pa.field("staged_path", pa.string(), nullable=False),
        pa.array([str(victim)] * outputs[0].num_rows))
    with pytest.raises(sl.SluiceError, match="outside the staging directory"):
        write.commit([tampered])
    assert victim.exists()
