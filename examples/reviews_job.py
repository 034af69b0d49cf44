"""The reviews notebook job, ported from Ray Data by changing the import.

Reads Amazon-reviews Parquet partitioned by product_category, looks at it, adds a ratio
column, sorts, filters three ways (a pandas batch function, the same as an actor-pool
class, a row predicate) and writes Parquet.

    sluice run examples/reviews_job.py --input data/reviews/parquet --output out/reviews
    sluice run examples/reviews_job.py ... --native true   # the same with native expressions
"""

import sluice as sl

args = sl.job_args()
input_path = args.get("input", "data/reviews/parquet")
output_path = args.get("output", "out/reviews")
native = args.get("native", "false") == "true"

ds = sl.read_parquet(input_path)
print("rows:", ds.count())
print("schema:", ds.schema())
print("size_bytes:", ds.size_bytes())
ds.show(1)

if native:
    ds = ds.add_column("helpful_votes_ratio", sl.col("helpful_votes") / sl.col("total_votes"))
else:
    ds = ds.add_column("helpful_votes_ratio", lambda df: df["helpful_votes"] / df["total_votes"])

ds = ds.sort("total_votes")


def keep_small_vote_counts(batch):
    return batch[batch["total_votes"] < 100]


class KeepSmallVoteCounts:
    """A stateful step: built once per actor, then called for each batch."""

    def __init__(self, threshold=100):
        self.threshold = threshold

    def __call__(self, batch):
        return batch[batch["total_votes"] < self.threshold]


if native:
    ds = ds.filter(sl.col("total_votes") < 100)
    ds = ds.filter((sl.col("total_votes") > 0) & (sl.col("marketplace") == "US"))
else:
    ds = ds.map_batches(keep_small_vote_counts)
    ds = ds.map_batches(KeepSmallVoteCounts, compute=sl.ActorPoolStrategy(min_size=1, max_size=2),
                        fn_constructor_args=(100,))
    ds = ds.filter(lambda row: row["total_votes"] > 0 and row["marketplace"] == "US")

result = ds.write_parquet(output_path, mode="overwrite")
print(f"wrote {result['rows']:,} rows to {len(result['files'])} files under {output_path}")
print(ds.stats())
