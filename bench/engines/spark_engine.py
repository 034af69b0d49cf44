"""PySpark in local[*] mode with the machine's Java."""

import os

import pyarrow as pa
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from . import WORD

spark = None


def start():
    global spark
    spark = (SparkSession.builder.master("local[*]").appName("sluice-bench")
             .config("spark.driver.memory", os.environ.get("BENCH_SPARK_MEMORY", "8g"))
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")


def _read(data):
    return spark.read.parquet(str(data / "parquet"))


def w1(data, out):
    df = _read(data).withColumn("helpful_votes_ratio", F.col("helpful_votes") / F.col("total_votes"))
    df = df.filter(F.col("total_votes") < 100)
    df = df.filter((F.col("total_votes") > 0) & (F.col("marketplace") == "US"))
    df.orderBy("total_votes").write.parquet(str(out / "w1"))


def w2(data, out):
    df = spark.read.csv(str(data / "tsv"), sep="\t", header=True, inferSchema=True, quote="")
    df.write.json(str(out / "w2"))


def w3(data, out):
    df = spark.read.text(str(data / "text")).withColumn("path", F.input_file_name())
    rows = df.filter(F.col("value").contains(WORD)).groupBy("path").count().collect()
    names = [os.path.basename(r["path"]) for r in rows]
    return pa.table({"file": names, "lines": pa.array([r["count"] for r in rows], pa.int64())})


def w4(data, out):
    ratio = F.when(F.col("total_votes") > 0, F.col("helpful_votes") / F.col("total_votes"))
    df = _read(data).groupBy("product_category", "star_rating").agg(
        F.count(F.lit(1)).alias("count()"), F.avg("star_rating").alias("mean(star_rating)"),
        F.sum("helpful_votes").alias("sum(helpful_votes)"), F.avg(ratio).alias("mean(ratio)"))
    return pa.Table.from_pandas(df.orderBy("product_category", "star_rating").toPandas(),
                                preserve_index=False)


def w5(data, out):
    df = _read(data).withColumn("year", F.year("review_date"))
    df.write.partitionBy("marketplace", "year").parquet(str(out / "w5"))


def w6(data, out):
    _read(data).orderBy("product_id", "review_date").write.parquet(str(out / "w6"))
