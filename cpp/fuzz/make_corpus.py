#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (docs/fuzzing.md) into OUT/<target>/.

Seeds are small valid (and a few nearly valid) inputs of every format, so libFuzzer starts
from inputs that reach deep into each reader: Parquet files of many types, encodings,
compressions and nestings written by pyarrow, CSV / JSON lines / text samples, gzip
streams of several members and header flags, predicate strings, table manifests and the
catalog's JSON column values. The reader targets take one options byte after the file
(cpp/fuzz/read_options_byte.h); each sample is written with a few of them. Files are
named by the SHA-1 of their content, as libFuzzer names what it adds, so writing the
seeds again into a grown corpus adds nothing twice.

usage: make_corpus.py OUT
"""

import datetime
import decimal
import gzip
import hashlib
import io
import json
import struct
import sys
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def write(out: Path, target: str, data: bytes) -> None:
    directory = out / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)


# Options bytes (read_options_byte.h): bits 6-7 pick reads of at most 0 (unlimited), 1, 13
# or 4096 bytes; the low bits are per target.
UNLIMITED, ONE_BYTE, THIRTEEN_BYTES = 0x00, 0x40, 0x80


def with_options(sample: bytes, options) -> list:
    return [sample + bytes([o]) for o in options]


# ---- Parquet ---------------------------------------------------------------------------

def parquet_tables():
    n = 7
    yield "ints", pa.table({
        "i8": pa.array([1, -2, None, 127, -128, 0, 5], pa.int8()),
        "i16": pa.array([1, None, 3, -32768, 32767, 0, 9], pa.int16()),
        "i32": pa.array([None, 2, 3, 4, 2**31 - 1, -(2**31), 0], pa.int32()),
        "i64": pa.array([1, 2, None, 2**63 - 1, -(2**63), 0, 7], pa.int64()),
        "u8": pa.array([0, 255, None, 1, 2, 3, 4], pa.uint8()),
        "u64": pa.array([0, 2**64 - 1, None, 1, 2, 3, 4], pa.uint64()),
    })
    yield "floats_bools", pa.table({
        "f32": pa.array([1.5, None, float("nan"), float("inf"), -0.0, 3.25, 1e30], pa.float32()),
        "f64": pa.array([1e-300, None, float("-inf"), 2.5, 0.0, -1.0, 1e300], pa.float64()),
        "b": pa.array([True, False, None, True, True, False, None]),
    })
    yield "strings", pa.table({
        "s": pa.array(["US", "", None, "ünïcode", "a\x00b", "x" * 40, "US"]),
        "ls": pa.array(["a", "b", None, "c", "d", "e", "f"], pa.large_string()),
        "bin": pa.array([b"\x00\x01", b"", None, b"\xff", b"ab", b"c", b"d"], pa.binary()),
        "fsb": pa.array([b"abcd", b"efgh", None, b"ijkl", b"mnop", b"qrst", b"uvwx"], pa.binary(4)),
        "dict": pa.array(["x", "y", "x", None, "y", "x", "z"]).dictionary_encode(),
    })
    yield "temporal", pa.table({
        "d32": pa.array([datetime.date(2015, 1, 1), None, datetime.date(1970, 1, 1),
                         datetime.date(2038, 1, 19), datetime.date(1, 1, 1),
                         datetime.date(9999, 12, 31), datetime.date(2000, 2, 29)]),
        "ts_ms": pa.array([0, 1, None, -1, 2**40, 5, 6], pa.timestamp("ms")),
        "ts_us_tz": pa.array([0, 1, None, -1, 2**50, 5, 6], pa.timestamp("us", tz="UTC")),
        "ts_ns": pa.array([0, 1, None, -1, 2**62, 5, 6], pa.timestamp("ns")),
        "t32": pa.array([0, 1000, None, 86399000, 5, 6, 7], pa.time32("ms")),
        "t64": pa.array([0, 1000, None, 86399999999, 5, 6, 7], pa.time64("us")),
    })
    yield "decimals", pa.table({
        "dec9": pa.array([decimal.Decimal("1.23"), None, decimal.Decimal("-9.99"),
                          decimal.Decimal("0"), decimal.Decimal("1"), decimal.Decimal("2"),
                          decimal.Decimal("3")], pa.decimal128(5, 2)),
        "dec38": pa.array([decimal.Decimal("1" * 30), None, decimal.Decimal("-1"),
                           decimal.Decimal("0"), decimal.Decimal("1"), decimal.Decimal("2"),
                           decimal.Decimal("3")], pa.decimal128(38, 0)),
    })
    yield "nested", pa.table({
        "list": pa.array([[1, 2], [], None, [None], [3], [4, 5, 6], [7]], pa.list_(pa.int32())),
        "list_list": pa.array([[["a"], []], None, [], [[None, "b"]], [["c"]], [], [["d"]]],
                              pa.list_(pa.list_(pa.string()))),
        "struct": pa.array([{"x": 1, "y": "a"}, None, {"x": None, "y": None}, {"x": 2, "y": "b"},
                            {"x": 3, "y": "c"}, {"x": 4, "y": "d"}, {"x": 5, "y": "e"}],
                           pa.struct([("x", pa.int64()), ("y", pa.string())])),
        "map": pa.array([[("k", 1)], None, [], [("a", 2), ("b", None)], [("c", 3)], [], [("d", 4)]],
                        pa.map_(pa.string(), pa.int64())),
        "struct_list": pa.array([{"l": [1]}, {"l": None}, None, {"l": []}, {"l": [2, 3]},
                                 {"l": [4]}, {"l": [5]}],
                                pa.struct([("l", pa.list_(pa.int64()))])),
    })
    yield "empty", pa.table({"a": pa.array([], pa.int64()), "s": pa.array([], pa.string())})
    yield "all_null", pa.table({"a": pa.nulls(n, pa.int64()), "n": pa.nulls(n)})
    yield "wide", pa.table({f"c{i}": pa.array(range(i, i + 3)) for i in range(40)})


PARQUET_VARIANTS = [
    {},
    {"compression": "snappy"},
    {"compression": "gzip"},
    {"compression": "zstd"},
    {"compression": "lz4"},
    {"compression": "brotli"},
    {"use_dictionary": False},
    {"use_dictionary": False, "data_page_version": "2.0", "compression": "zstd"},
    {"data_page_version": "2.0"},
    {"write_statistics": False},
    {"row_group_size": 2},
    {"data_page_size": 16, "row_group_size": 3},
    {"write_page_index": True},
    {"use_byte_stream_split": True, "use_dictionary": False},
    {"version": "1.0"},
    {"store_schema": False},
    {"write_page_checksum": True},
]


def delta_encodings(table):
    """Per-column DELTA_* encodings where Parquet allows them."""
    encodings = {}
    for field in table.schema:
        if pa.types.is_integer(field.type):
            encodings[field.name] = "DELTA_BINARY_PACKED"
        elif pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            encodings[field.name] = "DELTA_BYTE_ARRAY"
        elif pa.types.is_binary(field.type):
            encodings[field.name] = "DELTA_LENGTH_BYTE_ARRAY"
    return encodings


def parquet_seeds():
    for name, table in parquet_tables():
        for variant in PARQUET_VARIANTS:
            sink = io.BytesIO()
            try:
                pq.write_table(table, sink, **variant)
            except (pa.ArrowException, OSError, ValueError, TypeError):
                continue  # an option this column type does not take
            yield sink.getvalue()
        encodings = delta_encodings(table)
        if encodings:
            sink = io.BytesIO()
            pq.write_table(table, sink, use_dictionary=False, column_encoding=encodings)
            yield sink.getvalue()
    # Nearly valid: a file cut short, and one with its footer length lying.
    sink = io.BytesIO()
    pq.write_table(pa.table({"a": [1, 2, 3]}), sink)
    data = sink.getvalue()
    yield data[: len(data) // 2] + data[-8:]
    yield data[:-8] + struct.pack("<I", 10**6) + b"PAR1"


# ---- CSV, JSON lines, text -------------------------------------------------------------

CSV_SAMPLES = [
    b"a,b,c\n1,2.5,x\n3,,y\n",
    b"id,when,flag,price\n1,2015-01-02,true,1.5\n2,2016-02-29T12:00:00,false,-0\n3,,null,1e10\n",
    b"name,note\n\"quoted, comma\",\"say \"\"hi\"\"\"\n\"multi\nline\",x\n",
    b"a;b;c\r\n1;2;3\r\n4;5;6\r\n",
    b"a\tb\n1\t\\t\n2\t\\\\\n",
    b"a|b\n1|2\n",
    b"\xef\xbb\xbfbom,col\n1,2\n",
    b"a,b\n1\n2,3,4\n",
    b"a,a\n1,2\n",
    b"",
    b"only,a,header\n",
    b"x\n\n\n1\n",
    b"n\n9223372036854775807\n-9223372036854775808\n9223372036854775808\n",
    b"u\n\xc3\xa9\n\xff\xfe\n",
    b"a\x00b,c\n1,2\n",
    b"f\nNA\nNULL\nnan\n-inf\n1.0\n",
    b"ts\n2024-01-01 00:00:00+01:00\n1970-01-01T00:00:00Z\n",
]

JSON_SAMPLES = [
    b'{"a": 1, "b": "x"}\n{"a": 2, "b": null}\n',
    b'{"a": {"x": [1, 2, {"y": null}]}, "s": "\\u00e9\\ud83d\\ude00"}\n',
    b'{"a": 1}\n{"a": 1.5}\n{"a": "s"}\n',
    b'{"a": 1}\n\n{"b": 2}\n',
    b'{"a": [[1], [], null]}\n{"a": [[2, 3]]}\n',
    b'{"t": "2015-01-01T00:00:00", "b": true, "n": 18446744073709551616}\n',
    b'{"a": 1}\r\n{"a": 2}',
    b'',
    b'{}\n{}\n',
    b'[1, 2]\n',
    b'{"a": 1} {"a": 2}\n',
    b'{"a": "\xff"}\n',
    b'{"a": {"b": {"c": {"d": {"e": 1}}}}}\n',
    b'{"path": "x"}\n',
]

TEXT_SAMPLES = [
    b"one\ntwo\nthree\n",
    b"no final newline",
    b"crlf\r\nlines\r\n\r\n",
    b"\n\n\n",
    b"",
    b"caf\xc3\xa9\n\xff\xfe bad utf8\n",
    b"x" * 300 + b"\n" + b"y" * 5000,
    b"a\rb\n\r\n\r",
]


# ---- gzip ------------------------------------------------------------------------------

def gzip_member(data: bytes, *, name=None, comment=None, extra=None, header_crc=False,
                level=6) -> bytes:
    """A gzip member with the optional header fields RFC 1952 allows."""
    flags = (0x04 if extra is not None else 0) | (0x08 if name is not None else 0) | \
            (0x10 if comment is not None else 0) | (0x02 if header_crc else 0)
    header = b"\x1f\x8b\x08" + bytes([flags]) + struct.pack("<I", 0) + b"\x00\xff"
    if extra is not None:
        header += struct.pack("<H", len(extra)) + extra
    if name is not None:
        header += name + b"\x00"
    if comment is not None:
        header += comment + b"\x00"
    if header_crc:
        header += struct.pack("<H", zlib.crc32(header) & 0xFFFF)
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    body = compressor.compress(data) + compressor.flush()
    return header + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def gzip_seeds():
    text = b"id,value\n" + b"".join(b"%d,%d\n" % (i, i * i) for i in range(50))
    streams = [
        gzip.compress(text),
        gzip.compress(b""),
        gzip.compress(text) + gzip.compress(b"second member\n"),
        gzip.compress(b"") + gzip.compress(b"after an empty member"),
        gzip_member(text, name=b"file.csv", comment=b"a comment", extra=b"AB\x02\x00hi",
                    header_crc=True),
        gzip_member(text, level=0),
        gzip_member(b"a" * 2000, level=9),
        gzip.compress(text)[:-5],
        gzip.compress(text) + b"\x00" * 16,
        gzip.compress(text) + b"trailing garbage",
        b"",
        b"\x1f\x8b",
    ]
    for stream in streams:
        # Low bits: output read size (3, 100, 4096, 64 KiB), then compressed read size
        # (all, 1, 17, 4096 bytes).
        yield from with_options(stream, [0x00, 0x03, 0x05, 0x0B, 0x0E])


# ---- Predicates, manifests, catalog JSON -----------------------------------------------

PREDICATES = [
    "a = 1",
    "year = 2015 AND s IN ('US', 'UK')",
    "a BETWEEN -2 AND 3 OR b IS NULL",
    "NOT (flag) AND s <> 'it''s'",
    "a + 1 * 2 - 3 / 4 % 5 >= b",
    "\"a\" > `year` OR s NOT IN ('', NULL)",
    "s IS NOT NULL AND TRUE OR FALSE",
    "-a < -(-1.5e3)",
    "year != 2016 AND year == 2015 AND a <= 9223372036854775807",
    "b = .5 OR b = 1e-300",
    "a IN (1, 2.5, 'x')",
    "s = 'unterminated",
    "((a = 1)",
    "a = 1 AND",
]

MANIFESTS = [
    {"sluice_manifest": 1, "snapshot": 3, "write_id": "w-1", "operation": "append",
     "committed_at_ms": 1700000000000, "partition_cols": ["year"],
     "files": [{"path": "year=2015/part-0.parquet", "rows": 10, "bytes": 100},
               {"path": "year=2016/part-0.parquet", "rows": 5, "bytes": 50}]},
    {"sluice_manifest": 1, "snapshot": 0, "write_id": "", "operation": "adopt",
     "committed_at_ms": 0, "partition_cols": [], "files": [{"path": "a.parquet"}]},
    {"sluice_manifest": 1, "snapshot": 1, "files": []},
    {"sluice_manifest": 2, "snapshot": 1, "files": []},
    {"sluice_manifest": 1, "snapshot": 1, "files": [{"path": "../outside.parquet"}]},
    {"sluice_manifest": 1, "snapshot": "x", "files": [{"path": "k=a..b/f.parquet", "rows": -1}]},
]
MANIFEST_TEXTS = [b"", b"\n", b"{}", b"not json", b'{"sluice_manifest": 1, "snapshot": 1, "fil']

CATALOG_VALUES = [
    '["year", "marketplace"]', "[]", '{"owner": "me", "tier": "gold"}', "{}",
    '[["year", "2015"], ["marketplace", null]]', '[["k", ""]]', '["a"', '[["k"]]', "null",
    '{"k": 1}', '[1, 2]', '"s"', "1e999999",
]


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    for data in parquet_seeds():
        write(out, "parquet", data)
    for sample in CSV_SAMPLES:
        # delimiter (bits 0-1: , ; tab |), no header (4), newlines in values (8),
        # escaping (16), no quoting (32), read sizes (bits 6-7).
        delimiter = {b";": 1, b"\t": 2, b"|": 3}.get(
            next((d for d in (b";", b"\t", b"|") if d in sample), b","), 0)
        # Before the options byte, the bad-record byte: on_bad_lines (bits 0-1: error,
        # skip, collect), encoding_errors="replace" (4), empty strings kept (8), a
        # 256-byte block (16).
        for records in (0, 1, 2 | 4, 1 | 8 | 16):
            for data in with_options(sample + bytes([records]),
                                     [delimiter, delimiter | 4 | 8, delimiter | 16 | ONE_BYTE,
                                      delimiter | 32 | THIRTEEN_BYTES]):
                write(out, "csv", data)
    for sample in JSON_SAMPLES:
        # include_paths (1), on_bad_lines (bits 1-2: error, skip, collect),
        # encoding_errors="replace" (8), a 256-byte block (16), read sizes (bits 6-7).
        for data in with_options(sample, [UNLIMITED, 1 | ONE_BYTE, THIRTEEN_BYTES, 2, 4 | 8,
                                          2 | 16 | THIRTEEN_BYTES]):
            write(out, "json_lines", data)
    for sample in TEXT_SAMPLES:
        for data in with_options(sample, [UNLIMITED, 1 | ONE_BYTE, 2 | THIRTEEN_BYTES]):
            write(out, "text", data)
    for data in gzip_seeds():
        write(out, "gzip", data)
    for predicate in PREDICATES:
        write(out, "predicate", predicate.encode())
    for manifest in MANIFESTS:
        write(out, "manifest", (json.dumps(manifest, indent=1) + "\n").encode())
    for text in MANIFEST_TEXTS:
        write(out, "manifest", text)
    for value in CATALOG_VALUES:
        write(out, "catalog_json", value.encode())


if __name__ == "__main__":
    main()
