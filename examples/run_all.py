"""`make demo`: generate a small reviews data set and run every example on it."""

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "reviews"
OUT = ROOT / "out"
ROWS = int(os.environ.get("SLUICE_DEMO_ROWS", "200000"))
BIN = Path(sys.executable).parent


def run(args):
    print("$", " ".join(str(a) for a in args), flush=True)
    start = time.perf_counter()
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT)
    print(f"  ({time.perf_counter() - start:.2f} s)\n", flush=True)


def main():
    marker = DATA / f".rows-{ROWS}"
    if not marker.exists():
        run([sys.executable, "bench/gen_reviews.py", "--rows", ROWS, "--out", DATA])
        marker.touch()
    sluice = BIN / "sluice"
    run([sluice, "inspect", DATA / "parquet"])
    run([sluice, "head", DATA / "parquet", "-n", "3"])
    run([sluice, "run", "examples/reviews_job.py", "--input", DATA / "parquet",
         "--output", OUT / "reviews"])
    run([sluice, "run", "examples/reviews_job.py", "--input", DATA / "parquet",
         "--output", OUT / "reviews-native", "--native", "true"])
    run([sluice, "run", "examples/tsv_to_json.py", "--input", DATA / "tsv",
         "--output", OUT / "reviews-json"])
    run([sluice, "run", "examples/count_word_lines.py", "--input", DATA / "text",
         "--word", "excellent"])
    run([sluice, "convert", DATA / "tsv", OUT / "reviews-convert", "--to", "json",
         "--delimiter", "\\t", "--mode", "overwrite"])


if __name__ == "__main__":
    main()
