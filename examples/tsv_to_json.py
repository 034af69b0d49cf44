"""TSV.gz files to JSON lines: the job that takes pandas an hour and a half on 2.7 GB.

    sluice run examples/tsv_to_json.py --input data/reviews/tsv --output out/reviews-json

(The CLI does the same in one command: sluice convert data/reviews/tsv out/json --to json
--delimiter '\\t'.)
"""

import sluice as sl

args = sl.job_args()
input_path = args.get("input", "data/reviews/tsv")
output_path = args.get("output", "out/reviews-json")

ds = sl.read_csv(input_path, delimiter="\t")
result = ds.write_json(output_path, mode="overwrite")
print(f"wrote {result['rows']:,} rows to {len(result['files'])} JSON lines files under {output_path}")
print(ds.stats())
