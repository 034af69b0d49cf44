"""One module per engine; each implements the six workloads in its own idiomatic style.

Every workload function takes (data: Path, out: Path) and either writes its output under
`out` (W1, W2, W5, W6) or returns a small pyarrow Table (W3, W4). `data` holds parquet/,
tsv/ and text/ as bench/gen_reviews.py writes them.

Shared definitions, so every engine does exactly the same work:
  W1  read Parquet; helpful_votes_ratio = helpful_votes / total_votes; keep total_votes < 100;
      keep total_votes > 0 and marketplace == "US"; sort by total_votes; write Parquet.
  W2  read the TSV.gz files; write JSON lines.
  W3  read the text files; per input file, count lines containing WORD -> (file name, count).
  W4  group by product_category, star_rating -> count, mean(star_rating),
      sum(helpful_votes), mean(helpful ratio), where the ratio is null when total_votes == 0.
  W5  write the dataset as Parquet partitioned by marketplace and year(review_date).
  W6  sort the whole dataset by (product_id, review_date); write Parquet.
"""

WORD = "excellent"
ENGINES = ["sluice", "sluice-udf", "duckdb", "polars", "pandas", "ray", "daft", "spark"]
WORKLOADS = ["W1", "W2", "W3", "W4", "W5", "W6"]
