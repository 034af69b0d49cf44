"""pandas: what a notebook does, with the pyarrow engine for Parquet."""

import csv

import numpy as np
import pandas as pd
import pyarrow as pa

from . import WORD


def _read(data):
    return pd.read_parquet(data / "parquet")


def w1(data, out):
    (out / "w1").mkdir(parents=True)
    df = _read(data)
    df["helpful_votes_ratio"] = df["helpful_votes"] / df["total_votes"]
    df = df[df["total_votes"] < 100]
    df = df[(df["total_votes"] > 0) & (df["marketplace"] == "US")]
    df.sort_values("total_votes", kind="stable").to_parquet(out / "w1" / "data.parquet", index=False)


def w2(data, out):
    (out / "w2").mkdir(parents=True)
    for i, path in enumerate(sorted((data / "tsv").glob("*.tsv.gz"))):
        df = pd.read_csv(path, sep="\t", quoting=csv.QUOTE_NONE)
        df.to_json(out / "w2" / f"part-{i:03d}.json", orient="records", lines=True)


def w3(data, out):
    files, counts = [], []
    for path in sorted((data / "text").glob("*.txt")):
        lines = pd.read_csv(path, header=None, names=["line"], sep="\x1f", quoting=csv.QUOTE_NONE,
                            skip_blank_lines=False, dtype=str)["line"]
        n = int(lines.str.contains(WORD, regex=False, na=False).sum())
        if n:
            files.append(path.name)
            counts.append(n)
    return pa.table({"file": files, "lines": pa.array(counts, pa.int64())})


def w4(data, out):
    df = _read(data)
    df["ratio"] = np.where(df["total_votes"] > 0, df["helpful_votes"] / df["total_votes"].where(df["total_votes"] > 0), np.nan)
    grouped = df.groupby(["product_category", "star_rating"], observed=True).agg(
        **{"count()": ("star_rating", "size"), "mean(star_rating)": ("star_rating", "mean"),
           "sum(helpful_votes)": ("helpful_votes", "sum"), "mean(ratio)": ("ratio", "mean")})
    return pa.Table.from_pandas(grouped.reset_index().sort_values(["product_category", "star_rating"]),
                                preserve_index=False)


def w5(data, out):
    df = _read(data)
    df["year"] = pd.to_datetime(df["review_date"]).dt.year
    df.to_parquet(out / "w5", partition_cols=["marketplace", "year"], index=False)


def w6(data, out):
    (out / "w6").mkdir(parents=True)
    df = _read(data).sort_values(["product_id", "review_date"], kind="stable")
    df.to_parquet(out / "w6" / "data.parquet", index=False)
