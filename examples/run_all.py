"""`make demo`: generate a small reviews data set and run every example on it."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "reviews"
OUT = ROOT / "out"
ROWS = int(os.environ.get("SLUICE_DEMO_ROWS", "200000"))
BIN = Path(sys.executable).parent


def run(args, env=None):
    print("$", " ".join(str(a) for a in args), flush=True)
    start = time.perf_counter()
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT, env=env)
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
    with local_s3() as endpoint:
        env = dict(os.environ, SLUICE_S3_ENDPOINT=endpoint, SLUICE_CATALOG=str(OUT / "catalog.db"))
        run([sluice, "run", "examples/reviews_to_table.py", "--input", DATA / "parquet",
             "--location", "s3://lake/reviews", "--table", "sales.reviews"], env=env)
        run([sluice, "catalog", "partitions", "sales.reviews", "--filter",
             "year = 2015 AND marketplace = 'US'"], env=env)


@contextlib.contextmanager
def local_s3():
    """An S3-compatible server (moto, from requirements-dev.txt) on a free loopback port
    with bucket 'lake', stopped afterwards."""
    import pyarrow.fs as pafs
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    os.environ.update(AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo")
    server = subprocess.Popen([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the local S3 server did not start")
                time.sleep(0.1)
        pafs.S3FileSystem(endpoint_override=f"127.0.0.1:{port}", scheme="http",
                          region="us-east-1", allow_bucket_creation=True).create_dir("lake")
        print(f"(local S3-compatible server on 127.0.0.1:{port})\n", flush=True)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
