"""Daft on its local native runner."""

import os

import daft
import pyarrow as pa
import pyarrow.compute as pc
from daft import col
from daft.functions import when

from . import WORD


def _read(data):
    return daft.read_parquet(f"{data}/parquet/**/*.parquet", hive_partitioning=True)


def w1(data, out):
    df = _read(data).with_column("helpful_votes_ratio", col("helpful_votes") / col("total_votes"))
    df = df.where(col("total_votes") < 100)
    df = df.where((col("total_votes") > 0) & (col("marketplace") == "US"))
    df.sort("total_votes").write_parquet(str(out / "w1"))


def w2(data, out):
    df = daft.read_csv(f"{data}/tsv/*.tsv.gz", delimiter="\t", double_quote=False)
    df.write_json(str(out / "w2"))


def w3(data, out):
    df = daft.read_csv(f"{data}/text/*.txt", has_headers=False, delimiter="\x1f",
                       double_quote=False, file_path_column="path", infer_schema=False,
                       schema={"line": daft.DataType.string()})
    df = df.where(col("line").contains(WORD)).groupby("path").agg(col("line").count().alias("lines"))
    table = df.to_arrow()
    names = [os.path.basename(p) for p in table["path"].to_pylist()]
    return pa.table({"file": names, "lines": pc.cast(table["lines"], pa.int64())})


def w4(data, out):
    ratio = when(col("total_votes") > 0, col("helpful_votes") / col("total_votes")).otherwise(None)
    df = _read(data).groupby("product_category", "star_rating").agg(
        col("star_rating").count().alias("count()"), col("star_rating").mean().alias("mean(star_rating)"),
        col("helpful_votes").sum().alias("sum(helpful_votes)"), ratio.mean().alias("mean(ratio)"))
    return df.sort(["product_category", "star_rating"]).to_arrow()


def w5(data, out):
    df = _read(data).with_column("year", col("review_date").year())
    df.write_parquet(str(out / "w5"), partition_cols=["marketplace", "year"])


def w6(data, out):
    _read(data).sort(["product_id", "review_date"]).write_parquet(str(out / "w6"))
