"""Sluice with native expressions (the `sluice-udf` engine runs W1 with pandas UDFs)."""

import os

import pyarrow as pa

import sluice as sl

from . import WORD


def w1(data, out, udf=False):
    ds = sl.read_parquet(data / "parquet")
    if udf:
        ds = ds.add_column("helpful_votes_ratio", lambda df: df["helpful_votes"] / df["total_votes"])
        ds = ds.map_batches(lambda df: df[df["total_votes"] < 100])
        ds = ds.filter(lambda row: row["total_votes"] > 0 and row["marketplace"] == "US")
    else:
        ds = ds.add_column("helpful_votes_ratio", sl.col("helpful_votes") / sl.col("total_votes"))
        ds = ds.filter(sl.col("total_votes") < 100)
        ds = ds.filter((sl.col("total_votes") > 0) & (sl.col("marketplace") == "US"))
    ds.sort("total_votes").write_parquet(out / "w1")


def w2(data, out):
    sl.read_csv(data / "tsv", delimiter="\t").write_json(out / "w2")


def w3(data, out):
    ds = sl.read_text(data / "text", include_paths=True, drop_empty_lines=False)
    counts = ds.filter(sl.col("text").str.contains(WORD)).groupby("path").count().to_arrow()
    names = [os.path.basename(p) for p in counts["path"].to_pylist()]
    return pa.table({"file": names, "lines": counts["count()"]})


def w4(data, out):
    ds = sl.read_parquet(data / "parquet")
    ratio = sl.when(sl.col("total_votes") > 0, sl.col("helpful_votes") / sl.col("total_votes"), None)
    ds = ds.add_column("ratio", ratio)
    return ds.groupby(["product_category", "star_rating"]).aggregate(
        sl.Count(), sl.Mean("star_rating"), sl.Sum("helpful_votes"), sl.Mean("ratio")).to_arrow()


def w5(data, out):
    ds = sl.read_parquet(data / "parquet")
    ds = ds.add_column("year", sl.col("review_date").dt.year())
    ds.write_parquet(out / "w5", partition_cols=["marketplace", "year"])


def w6(data, out):
    sl.read_parquet(data / "parquet").sort(["product_id", "review_date"]).write_parquet(out / "w6")
