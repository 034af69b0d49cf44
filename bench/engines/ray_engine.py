"""Ray Data on a local Ray instance (all cores of this machine)."""

import os

import pyarrow as pa
import pyarrow.csv as pcsv
import ray
import ray.data
from ray.data.aggregate import Count, Mean, Sum

from . import WORD


def start():
    ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False


def w1(data, out):
    ds = ray.data.read_parquet(str(data / "parquet"))
    ds = ds.add_column("helpful_votes_ratio", lambda df: df["helpful_votes"] / df["total_votes"])
    ds = ds.filter(expr="total_votes < 100")
    ds = ds.filter(expr="total_votes > 0 and marketplace == 'US'")
    ds.sort("total_votes").write_parquet(str(out / "w1"))


def w2(data, out):
    parse = pcsv.ParseOptions(delimiter="\t", quote_char=False)
    # Ray's JSON writer goes through pandas, and with pandas 3 it fails on date32 columns
    # ("as_unit not implemented for date32[day]"); reading the date as text keeps it as written.
    convert = pcsv.ConvertOptions(column_types={"review_date": pa.string()})
    ray.data.read_csv(str(data / "tsv"), parse_options=parse, convert_options=convert) \
        .write_json(str(out / "w2"))


def w3(data, out):
    ds = ray.data.read_text(str(data / "text"), include_paths=True, drop_empty_lines=False)
    ds = ds.filter(lambda row: WORD in row["text"])
    counts = ds.groupby("path").count().to_arrow_refs()
    table = pa.concat_tables(ray.get(counts))
    names = [os.path.basename(p) for p in table["path"].to_pylist()]
    return pa.table({"file": names, "lines": table["count()"]})


def w4(data, out):
    def ratio(df):
        df["ratio"] = (df["helpful_votes"] / df["total_votes"]).where(df["total_votes"] > 0)
        return df

    ds = ray.data.read_parquet(str(data / "parquet")).map_batches(ratio, batch_format="pandas")
    result = ds.groupby(["product_category", "star_rating"]).aggregate(
        Count(), Mean("star_rating"), Sum("helpful_votes"), Mean("ratio"))
    return pa.concat_tables(ray.get(result.to_arrow_refs()))


def w5(data, out):
    def year(df):
        df["year"] = df["review_date"].map(lambda d: d.year)
        return df

    ds = ray.data.read_parquet(str(data / "parquet")).map_batches(year, batch_format="pandas")
    ds.write_parquet(str(out / "w5"), partition_cols=["marketplace", "year"])


def w6(data, out):
    ray.data.read_parquet(str(data / "parquet")).sort(["product_id", "review_date"]) \
        .write_parquet(str(out / "w6"))
