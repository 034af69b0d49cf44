#!/usr/bin/env python3
"""Generates data in the Amazon Customer Reviews layout, deterministic for a seed.

    python bench/gen_reviews.py --rows 1000000 --out data/reviews

writes
    OUT/parquet/product_category=<cat>/part-00000.parquet     (Hive-partitioned Parquet)
    OUT/tsv/reviews-<i>.tsv.gz                                (TSV with header, gzip, --files files)
    OUT/text/reviews-<i>.txt                                  (review bodies, one per line)

Columns: marketplace, customer_id, review_id, product_id, product_parent, product_title,
product_category, star_rating, helpful_votes, total_votes, vine, verified_purchase,
review_headline, review_body, review_date. Distributions: marketplace US ~60% (UK, DE,
JP, FR), ~40 skewed categories, star ratings skewed to 5, votes skewed with many zeros
and helpful_votes <= total_votes, bodies of a few hundred characters of real words.
Generation is vectorized (numpy + pyarrow) and chunked, so 10M rows take about a minute.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

CATEGORIES = [
    "Books", "Digital_Ebook_Purchase", "Wireless", "PC", "Home", "Apparel", "Health_Personal_Care",
    "Beauty", "Video_DVD", "Mobile_Apps", "Kitchen", "Toys", "Sports", "Music", "Shoes",
    "Digital_Music_Purchase", "Electronics", "Automotive", "Pet_Products", "Home_Improvement",
    "Grocery", "Lawn_and_Garden", "Office_Products", "Outdoors", "Jewelry", "Watches", "Baby",
    "Camera", "Furniture", "Musical_Instruments", "Software", "Tools", "Luggage", "Video_Games",
    "Personal_Care_Appliances", "Major_Appliances", "Digital_Software", "Gift_Card",
    "Digital_Video_Games", "Mobile_Electronics",
]
MARKETPLACES = ["US", "UK", "DE", "JP", "FR"]
MARKET_WEIGHTS = [0.60, 0.12, 0.12, 0.08, 0.08]

WORDS = """
the a this that it is was and but or for with very really quite too not great good bad
excellent terrible love hate like dislike product item quality price value money worth
works worked working broke broken fast slow shipping delivery arrived package box
battery screen sound picture color size fit comfortable cheap expensive durable sturdy
flimsy easy hard simple difficult use used using recommend recommended would buy bought
again return returned refund seller amazon star stars five four three two one month
months week weeks year years day days after before since still never always sometimes
kids family gift daughter son wife husband friend home kitchen office car phone book
story author read reading characters plot ending boring exciting funny beautiful nice
perfect pretty awesome amazing disappointed happy satisfied expected described picture
exactly better worse best worst than more less much many few small large big little
design material plastic metal leather cotton water light heavy battery charger cable
case cover bag shoes dress shirt pants coffee tea taste smell fresh music song album
movie film series season episode game play playing fun toy dog cat pet food clean
cleaning install installed instructions set setup software update version app works
perfectly fine okay decent solid nothing everything something anything first last time
""".split()
ADJECTIVES = ["Premium", "Classic", "Portable", "Deluxe", "Compact", "Wireless", "Smart",
              "Organic", "Professional", "Vintage", "Ultra", "Eco", "Heavy-Duty", "Mini",
              "Original", "Advanced", "Essential", "Natural", "Modern", "Ergonomic"]
NOUNS = ["Headphones", "Blender", "Novel", "Charger", "Backpack", "Lamp", "Sneakers",
         "Watch", "Camera", "Keyboard", "Speaker", "Mug", "Jacket", "Puzzle", "Drill",
         "Shampoo", "Guitar", "Tent", "Router", "Notebook", "Cookbook", "Blanket", "Monitor"]

N_PRODUCTS = 200_000
N_SENTENCES = 20_000
N_HEADLINES = 5_000
SCHEMA = pa.schema([
    ("marketplace", pa.string()), ("customer_id", pa.string()), ("review_id", pa.string()),
    ("product_id", pa.string()), ("product_parent", pa.string()), ("product_title", pa.string()),
    ("product_category", pa.string()), ("star_rating", pa.int32()), ("helpful_votes", pa.int32()),
    ("total_votes", pa.int32()), ("vine", pa.string()), ("verified_purchase", pa.string()),
    ("review_headline", pa.string()), ("review_body", pa.string()), ("review_date", pa.date32()),
])


def _sentences(rng: np.random.Generator, count: int, min_words: int, max_words: int) -> pa.Array:
    lengths = rng.integers(min_words, max_words + 1, size=count)
    # Zipf-like word choice so common words dominate, as in real text.
    ranks = np.minimum(rng.zipf(1.3, size=int(lengths.sum())) - 1, len(WORDS) - 1)
    words = np.array(WORDS)[ranks]
    out, pos = [], 0
    for n in lengths:
        chunk = words[pos:pos + n]
        pos += n
        out.append(" ".join(chunk).capitalize() + ".")
    return pa.array(out, pa.string())


class Vocabulary:
    """Pools drawn once per seed; rows pick from them with vectorized takes."""

    def __init__(self, seed: int):
        rng = np.random.default_rng(seed)
        self.sentences = _sentences(rng, N_SENTENCES, 6, 16)
        self.headlines = _sentences(rng, N_HEADLINES, 2, 6)
        adj = np.array(ADJECTIVES)[rng.integers(0, len(ADJECTIVES), N_PRODUCTS)]
        noun = np.array(NOUNS)[rng.integers(0, len(NOUNS), N_PRODUCTS)]
        model = rng.integers(100, 9999, N_PRODUCTS)
        self.titles = pa.array([f"{a} {n} {m}" for a, n, m in zip(adj, noun, model)])
        self.product_ids = pa.array([f"B{x:09d}" for x in rng.permutation(N_PRODUCTS * 7)[:N_PRODUCTS]])
        self.parents = pa.array([str(x) for x in rng.integers(100_000_000, 999_999_999, N_PRODUCTS)])
        # Skewed category per product: a few categories hold most products.
        weights = 1.0 / np.arange(1, len(CATEGORIES) + 1) ** 0.9
        self.product_category = pa.array(
            np.array(CATEGORIES)[rng.choice(len(CATEGORIES), N_PRODUCTS, p=weights / weights.sum())])


def generate_chunk(vocab: Vocabulary, seed: int, start: int, rows: int) -> pa.Table:
    rng = np.random.default_rng([seed, start])
    product = np.minimum(rng.zipf(1.2, rows) - 1, N_PRODUCTS - 1)
    product = pa.array(product.astype(np.int64))
    market = np.array(MARKETPLACES)[rng.choice(len(MARKETPLACES), rows, p=MARKET_WEIGHTS)]
    stars = rng.choice([1, 2, 3, 4, 5], rows, p=[0.08, 0.05, 0.08, 0.17, 0.62]).astype(np.int32)
    zero = rng.random(rows) < 0.55
    total = np.where(zero, 0, np.minimum(rng.zipf(1.8, rows), 5000)).astype(np.int32)
    helpful = rng.binomial(total, rng.uniform(0.2, 1.0, rows)).astype(np.int32)
    body_parts = [pc.take(vocab.sentences, pa.array(rng.integers(0, N_SENTENCES, rows)))
                  for _ in range(rng.integers(3, 6))]
    body = pc.binary_join_element_wise(*body_parts, " ")
    headline = pc.take(vocab.headlines, pa.array(rng.integers(0, N_HEADLINES, rows)))
    day0 = (dt.date(1999, 1, 1) - dt.date(1970, 1, 1)).days
    span = (dt.date(2015, 8, 31) - dt.date(1999, 1, 1)).days
    # Later years have more reviews, as in the real data set.
    days = day0 + (span * np.sqrt(rng.random(rows))).astype(np.int32)
    ids = np.arange(start, start + rows)
    columns = {
        "marketplace": pa.array(market),
        "customer_id": pa.array(rng.integers(10_000, 53_000_000, rows).astype(str)),
        "review_id": pa.array(np.char.add("R", np.char.zfill((ids * 7919 % 10**13).astype(str), 13))),
        "product_id": pc.take(vocab.product_ids, product),
        "product_parent": pc.take(vocab.parents, product),
        "product_title": pc.take(vocab.titles, product),
        "product_category": pc.take(vocab.product_category, product),
        "star_rating": pa.array(stars),
        "helpful_votes": pa.array(helpful),
        "total_votes": pa.array(total),
        "vine": pa.array(np.where(rng.random(rows) < 0.01, "Y", "N")),
        "verified_purchase": pa.array(np.where(rng.random(rows) < 0.8, "Y", "N")),
        "review_headline": headline,
        "review_body": body,
        "review_date": pa.array(days.astype("datetime64[D]"), pa.date32()),
    }
    return pa.table(columns, schema=SCHEMA)


def write(out: Path, rows: int, seed: int, formats: set[str], files: int, chunk_rows: int) -> None:
    if out.exists():
        shutil.rmtree(out)
    vocab = Vocabulary(seed)
    tsv_writers, text_writers = [], []
    if "tsv" in formats:
        (out / "tsv").mkdir(parents=True)
        for i in range(files):
            # gzip level 6 (gzip's default), like files found in the wild; Arrow's stream uses 9.
            stream = gzip.open(out / "tsv" / f"reviews-{i:03d}.tsv.gz", "wb", compresslevel=6)
            # A bare header line, as in the public TSV files (Arrow would quote the names).
            stream.write(("\t".join(SCHEMA.names) + "\n").encode())
            tsv_writers.append((stream, pcsv.CSVWriter(stream, SCHEMA, write_options=pcsv.WriteOptions(
                include_header=False, delimiter="\t", quoting_style="none"))))
    if "text" in formats:
        (out / "text").mkdir(parents=True)
        text_schema = pa.schema([("review_body", pa.string())])
        for i in range(files):
            stream = pa.OSFile(str(out / "text" / f"reviews-{i:03d}.txt"), "wb")
            text_writers.append((stream, pcsv.CSVWriter(stream, text_schema, write_options=pcsv.WriteOptions(
                include_header=False, quoting_style="none"))))
    # One Parquet file per category, as in the public data set, written chunk by chunk.
    parquet_writers: dict[str, pq.ParquetWriter] = {}
    file_schema = SCHEMA.remove(SCHEMA.get_field_index("product_category"))
    chunk_index = 0
    for start in range(0, rows, chunk_rows):
        n = min(chunk_rows, rows - start)
        table = generate_chunk(vocab, seed, start, n)
        if "parquet" in formats:
            for category in sorted(pc.unique(table["product_category"]).to_pylist()):
                part = table.filter(pc.equal(table["product_category"], category))
                writer = parquet_writers.get(category)
                if writer is None:
                    directory = out / "parquet" / f"product_category={category}"
                    directory.mkdir(parents=True)
                    writer = pq.ParquetWriter(directory / "part-00000.parquet", file_schema)
                    parquet_writers[category] = writer
                writer.write_table(part.drop_columns(["product_category"]), row_group_size=128 * 1024)
        # Chunks go round-robin to the TSV and text files so each file gets a share.
        if tsv_writers:
            tsv_writers[chunk_index % files][1].write_table(table)
        if text_writers:
            text_writers[chunk_index % files][1].write_table(table.select(["review_body"]))
        chunk_index += 1
        print(f"\r{start + n:,}/{rows:,} rows", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    for writer in parquet_writers.values():
        writer.close()
    for stream, writer in tsv_writers + text_writers:
        writer.close()
        stream.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=Path("data/reviews"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--formats", default="parquet,tsv,text",
                        help="comma-separated subset of parquet,tsv,text")
    parser.add_argument("--files", type=int, default=8, help="TSV and text files to write")
    parser.add_argument("--chunk-rows", type=int, default=250_000)
    args = parser.parse_args()
    formats = set(args.formats.split(","))
    unknown = formats - {"parquet", "tsv", "text"}
    if unknown:
        parser.error(f"unknown formats: {', '.join(sorted(unknown))}")
    if args.rows < 1 or args.files < 1:
        parser.error("--rows and --files must be positive")
    args.chunk_rows = min(args.chunk_rows, max(1, -(-args.rows // args.files)))
    write(args.out, args.rows, args.seed, formats, args.files, args.chunk_rows)


if __name__ == "__main__":
    main()
