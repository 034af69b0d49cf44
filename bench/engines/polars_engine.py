"""Polars: lazy queries, streaming sinks where Polars has them."""

import polars as pl

from . import WORD


def _scan(data):
    return pl.scan_parquet(f"{data}/parquet/**/*.parquet", hive_partitioning=True)


def w1(data, out):
    (out / "w1").mkdir(parents=True)
    (_scan(data)
     .with_columns((pl.col("helpful_votes") / pl.col("total_votes")).alias("helpful_votes_ratio"))
     .filter(pl.col("total_votes") < 100)
     .filter((pl.col("total_votes") > 0) & (pl.col("marketplace") == "US"))
     .sort("total_votes")
     .sink_parquet(out / "w1" / "data.parquet"))


def w2(data, out):
    (out / "w2").mkdir(parents=True)
    # scan_csv cannot stream gzip files; read_csv decompresses them.
    for i, path in enumerate(sorted((data / "tsv").glob("*.tsv.gz"))):
        frame = pl.read_csv(path, separator="\t", quote_char=None, try_parse_dates=True)
        frame.write_ndjson(out / "w2" / f"part-{i:03d}.json")


def w3(data, out):
    lines = pl.scan_csv(f"{data}/text/*.txt", has_header=False, separator="\x1f", quote_char=None,
                        new_columns=["line"], include_file_paths="path")
    result = (lines.filter(pl.col("line").str.contains(WORD, literal=True))
              .group_by("path").agg(pl.len().alias("lines"))
              .with_columns(pl.col("path").str.split("/").list.last().alias("file"))
              .select("file", "lines").sort("file").collect())
    return result.to_arrow()


def w4(data, out):
    ratio = pl.when(pl.col("total_votes") > 0).then(pl.col("helpful_votes") / pl.col("total_votes"))
    result = (_scan(data).group_by("product_category", "star_rating")
              .agg(pl.len().alias("count()"), pl.col("star_rating").mean().alias("mean(star_rating)"),
                   pl.col("helpful_votes").sum().alias("sum(helpful_votes)"),
                   ratio.mean().alias("mean(ratio)"))
              .sort("product_category", "star_rating").collect())
    return result.to_arrow()


def w5(data, out):
    frame = _scan(data).with_columns(pl.col("review_date").dt.year().alias("year")).collect()
    frame.write_parquet(out / "w5", partition_by=["marketplace", "year"])


def w6(data, out):
    (out / "w6").mkdir(parents=True)
    _scan(data).sort("product_id", "review_date").sink_parquet(out / "w6" / "data.parquet")
