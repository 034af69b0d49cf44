"""For each input file, count the lines that contain a word.

    sluice run examples/count_word_lines.py --input data/reviews/text --word excellent
"""

import sluice as sl

args = sl.job_args()
input_path = args.get("input", "data/reviews/text")
word = args.get("word", "excellent")

ds = sl.read_text(input_path, include_paths=True)
counts = ds.filter(sl.col("text").str.contains(word)).groupby("path").count()
for row in counts.sort("path").iter_rows():
    print(f"{row['count()']:>10,}  {row['path']}")
