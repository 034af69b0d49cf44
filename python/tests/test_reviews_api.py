"""The Python API on the reviews data, every result checked against DuckDB or pyarrow."""

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

import sluice as sl


def parquet_dir(reviews):
    return str(reviews / "parquet")


def reference_table(reviews) -> pa.Table:
    return pads.dataset(parquet_dir(reviews), format="parquet", partitioning="hive").to_table()


def sorted_rows(table: pa.Table, keys):
    return table.sort_by([(k, "ascending") for k in keys]).to_pylist()


def test_count_schema_size_from_footers(reviews):
    ds = sl.read_parquet(parquet_dir(reviews))
    ref = reference_table(reviews)
    assert ds.count() == ref.num_rows
    schema = ds.schema()
    assert "product_category" in schema.names
    for field in ref.schema:
        assert schema.field(field.name).type == field.type or field.name == "product_category"
    footer_bytes = sum(
        pq.ParquetFile(str(p)).metadata.row_group(i).total_byte_size
        for p in (reviews / "parquet").rglob("*.parquet")
        for i in range(pq.ParquetFile(str(p)).metadata.num_row_groups))
    assert ds.size_bytes() == footer_bytes


def test_read_columns_and_filter_pushdown(reviews, duck):
    ds = sl.read_parquet(parquet_dir(reviews), columns=["review_id", "total_votes", "product_category"],
                         filter=(sl.col("total_votes") > 10) & (sl.col("product_category") == "Books"))
    got = ds.to_arrow()
    assert got.column_names == ["review_id", "total_votes", "product_category"]
    expected = duck.sql(f"""select review_id, total_votes, product_category
        from read_parquet('{parquet_dir(reviews)}/*/*.parquet', hive_partitioning=true)
        where total_votes > 10 and product_category = 'Books'""").arrow().read_all()
    assert sorted_rows(got, ["review_id"]) == sorted_rows(expected, ["review_id"])
    plan = ds.explain_string()
    assert "filter=" in plan.split("Optimized plan")[1]
    # The filter's columns (one a partition column) are read for it, then dropped.
    only_ids = sl.read_parquet(parquet_dir(reviews)).filter(
        (sl.col("total_votes") > 10) & (sl.col("product_category") != "Books")
        & sl.col("marketplace").is_in(["US", "UK"])).select_columns(["review_id"])
    got = only_ids.to_arrow()
    assert got.column_names == ["review_id"]
    expected = duck.sql(f"""select review_id
        from read_parquet('{parquet_dir(reviews)}/*/*.parquet', hive_partitioning=true)
        where total_votes > 10 and product_category <> 'Books' and marketplace in ('US', 'UK')""").arrow().read_all()
    assert sorted_rows(got, ["review_id"]) == sorted_rows(expected, ["review_id"])
    assert only_ids.count() == expected.num_rows


def test_count_after_native_filter_reads_only_filter_columns(reviews):
    ds = sl.read_parquet(parquet_dir(reviews)).filter(sl.col("star_rating") == 5)
    ref = reference_table(reviews)
    assert ds.count() == pc.sum(pc.equal(ref["star_rating"], 5)).as_py()
    source = ds.stats_dict()["operators"][0]["name"]
    assert "columns=[]" in source, source


def test_add_column_expression_and_function_match_duckdb(reviews, duck):
    base = sl.read_parquet(parquet_dir(reviews), columns=["review_id", "helpful_votes", "total_votes"])
    native = base.add_column("ratio", sl.col("helpful_votes") / sl.col("total_votes"))
    udf = base.add_column("ratio", lambda df: df["helpful_votes"] / df["total_votes"])
    expected = duck.sql(f"""select review_id, helpful_votes / total_votes as ratio
        from read_parquet('{parquet_dir(reviews)}/*/*.parquet')""").arrow().read_all()
    exp = {r["review_id"]: r["ratio"] for r in expected.to_pylist()}
    for ds in (native, udf):
        rows = ds.to_arrow().to_pylist()
        assert len(rows) == len(exp)
        for row in rows:
            want = exp[row["review_id"]]
            got = row["ratio"]
            if want is None or want != want:  # duckdb: 0/0 is NULL; Arrow and pandas: NaN
                assert got is None or got != got
            else:
                assert got == pytest.approx(want)


def test_sort_matches_duckdb_order(reviews, duck):
    ds = sl.read_parquet(parquet_dir(reviews), columns=["review_id", "total_votes", "star_rating"])
    got = ds.sort(["total_votes", "review_id"], descending=[True, False]).to_arrow()
    expected = duck.sql(f"""select review_id, total_votes, star_rating
        from read_parquet('{parquet_dir(reviews)}/*/*.parquet')
        order by total_votes desc, review_id""").arrow().read_all()
    assert got.to_pylist() == expected.to_pylist()


def test_filters_three_ways_agree_with_duckdb(reviews, duck):
    ds = sl.read_parquet(parquet_dir(reviews))
    expected = duck.sql(f"""select count(*) from read_parquet('{parquet_dir(reviews)}/*/*.parquet')
        where total_votes > 0 and marketplace = 'US'""").fetchall()[0][0]
    native = ds.filter((sl.col("total_votes") > 0) & (sl.col("marketplace") == "US"))
    text = ds.filter(expr="total_votes > 0 and marketplace == 'US'")
    rows = ds.filter(lambda row: row["total_votes"] > 0 and row["marketplace"] == "US")
    assert native.count() == text.count() == rows.count() == expected


def test_reviews_notebook_pipeline_matches_duckdb(reviews, duck, tmp_path):
    class KeepSmall:
        def __init__(self, threshold):
            self.threshold = threshold

        def __call__(self, batch):
            return batch[batch["total_votes"] < self.threshold]

    ds = sl.read_parquet(parquet_dir(reviews))
    ds = ds.add_column("helpful_votes_ratio", lambda df: df["helpful_votes"] / df["total_votes"])
    ds = ds.sort("total_votes")
    ds = ds.map_batches(lambda b: b[b["total_votes"] < 100])
    ds = ds.map_batches(KeepSmall, compute=sl.ActorPoolStrategy(min_size=1, max_size=2),
                        fn_constructor_args=(100,))
    ds = ds.filter(lambda row: row["total_votes"] > 0 and row["marketplace"] == "US")
    result = ds.write_parquet(tmp_path / "out")
    written = pads.dataset(str(tmp_path / "out"), format="parquet").to_table()
    expected = duck.sql(f"""select * from read_parquet('{parquet_dir(reviews)}/*/*.parquet', hive_partitioning=true)
        where total_votes < 100 and total_votes > 0 and marketplace = 'US'""").arrow().read_all()
    assert result["rows"] == written.num_rows == expected.num_rows
    assert sorted(written["review_id"].to_pylist()) == sorted(expected["review_id"].to_pylist())
    # Files hold sorted slices and their names sort in order.
    files = sorted(result["files"])
    votes = pa.concat_tables([pq.read_table(f) for f in files])["total_votes"].to_pylist()
    assert votes == sorted(votes)


@pytest.mark.parametrize("keys", [["marketplace"], ["product_category", "star_rating"]])
def test_groupby_aggregates_match_duckdb(reviews, duck, keys):
    ds = sl.read_parquet(parquet_dir(reviews))
    got = ds.groupby(keys).aggregate(sl.Count(), sl.Sum("helpful_votes"), sl.Mean("star_rating"),
                                     sl.Min("total_votes"), sl.Max("total_votes")).to_arrow()
    key_list = ", ".join(keys)
    expected = duck.sql(f"""select {key_list}, count(*) as "count()",
            sum(helpful_votes) as "sum(helpful_votes)", avg(star_rating) as "mean(star_rating)",
            min(total_votes) as "min(total_votes)", max(total_votes) as "max(total_votes)"
        from read_parquet('{parquet_dir(reviews)}/*/*.parquet', hive_partitioning=true)
        group by {key_list} order by {key_list}""").arrow().read_all()
    assert got.column_names == expected.column_names
    got_rows, exp_rows = got.to_pylist(), expected.to_pylist()
    assert len(got_rows) == len(exp_rows)
    for g, e in zip(got_rows, exp_rows):
        assert g["mean(star_rating)"] == pytest.approx(e["mean(star_rating)"])
        g.pop("mean(star_rating)")
        e.pop("mean(star_rating)")
        assert g == e


def test_groupby_shortcuts(reviews):
    ds = sl.read_parquet(parquet_dir(reviews), columns=["marketplace", "total_votes"])
    ref = reference_table(reviews).group_by("marketplace").aggregate(
        [("total_votes", "sum"), ("total_votes", "count")]).sort_by("marketplace")
    summed = ds.groupby("marketplace").sum("total_votes").to_arrow()
    assert summed["sum(total_votes)"].to_pylist() == ref["total_votes_sum"].to_pylist()
    counted = ds.groupby("marketplace").count().to_arrow()
    assert counted["count()"].to_pylist() == ref["total_votes_count"].to_pylist()
    assert ds.sum("total_votes") == pc.sum(reference_table(reviews)["total_votes"]).as_py()
    assert sorted(ds.unique("marketplace")) == ["DE", "FR", "JP", "UK", "US"]


def test_tsv_gz_and_text_readers(reviews, duck):
    tsv = sl.read_csv(str(reviews / "tsv"), delimiter="\t")
    expected = duck.sql(f"""select count(*), sum(total_votes) from
        read_csv('{reviews}/tsv/*.tsv.gz', delim='\t', header=true, quote='', escape='')""").fetchall()[0]
    assert tsv.count() == expected[0]
    assert tsv.sum("total_votes") == expected[1]
    text = sl.read_text(str(reviews / "text"), include_paths=True)
    by_file = text.filter(sl.col("text").str.contains("excellent")).groupby("path").count().to_arrow()
    lines = {}
    for path in sorted((reviews / "text").iterdir()):
        lines[str(path)] = sum(1 for line in path.read_text().splitlines() if "excellent" in line)
    got = dict(zip(by_file["path"].to_pylist(), by_file["count()"].to_pylist()))
    assert {p: c for p, c in lines.items() if c} == got
