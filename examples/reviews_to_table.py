"""Lands reviews as a catalog table on S3 and reads it back by name.

Writes the reviews partitioned by year and marketplace to object storage, registering
table sales.reviews and exactly the partitions written in the same commit; then lists
partitions and reads the table with a partition filter: the catalog prunes partitions,
the table's manifest names the files, and no S3 listing happens.

    sluice run examples/reviews_to_table.py --input data/reviews/parquet \\
        --location s3://lake/reviews --table sales.reviews
(with SLUICE_S3_ENDPOINT / AWS credentials set for the store, SLUICE_CATALOG for the
catalog file; examples/run_all.py starts a local S3-compatible server for it.)
"""

import sluice as sl

args = sl.job_args()
input_path = args.get("input", "data/reviews/parquet")
location = args.get("location", "s3://lake/reviews")
table = args.get("table", "sales.reviews")

ds = sl.read_parquet(input_path).add_column("year", sl.col("review_date").dt.year())
result = ds.write_parquet(location, partition_cols=["year", "marketplace"], table=table,
                          mode="overwrite")
print(f"wrote {result['rows']:,} rows in {len(result['files'])} files to {location}")

info = sl.catalog.describe_table(table)
print(f"{info['name']}: {info['rows']:,} rows, {info['partitions']} partitions by "
      f"{', '.join(info['partition_cols'])}, version {info['version']}")

wanted = "year = 2015 AND marketplace IN ('US', 'UK')"
partitions = sl.catalog.list_partitions(table, wanted)
print(f"partitions matching {wanted!r}:")
for p in partitions:
    print(f"  {p['spec']:<32} {p['rows']:>8,} rows  {p['files']} file(s)")

by_name = sl.read_table(table, filter=wanted)
rows = by_name.count()
print(f"read_table({table!r}, filter=...) -> {rows:,} rows")
expected = sum(p["rows"] for p in partitions)
assert rows == expected, (rows, expected)
top = (by_name.groupby("marketplace").mean("star_rating").sort("marketplace").take_all())
for row in top:
    print(f"  {row['marketplace']}: mean star rating {row['mean(star_rating)']:.3f}")

for version in sl.catalog.history(table)[:3]:
    print(f"  version {version['version']}: {version['operation']}, "
          f"{version['rows_added']:,} rows in {version['files_added']} files")
