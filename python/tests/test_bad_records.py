"""Bad records in CSV and JSON lines (issue 12): on_bad_lines="error" | "skip" | "collect",
invalid UTF-8 (encoding_errors), JSON nesting depth, empty CSV fields as null, block_size.
Every line number is the physical line in its file, header included."""

import time

import duckdb
import pyarrow as pa
import pytest

import sluice as sl
from sluice import errors

# Lines that are not UTF-8 in different ways: a lone continuation byte, a truncated
# sequence, an overlong form, a surrogate, a byte that never occurs.
INVALID_UTF8 = [b"\x80", b"caf\xc3", b"\xc0\xaf", b"\xed\xa0\x80x", b"a\xffb", b"\xf4\x90\x80\x80"]


def rejects(ds):
    return ds.rejects().to_arrow().to_pylist()


def stats(ds):
    d = ds.stats_dict()
    return d["bad_records_skipped"], d["bad_records_collected"]


# ---- CSV: empty fields, block size, UTF-8 ---------------------------------------------


def test_empty_csv_fields_read_as_null_in_every_column_like_duckdb(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b'n,s,all_empty,q\n1,,,""\n2,x,,y\n,z,,\n')
    got = sl.read_csv(str(path)).to_arrow()
    expected = duckdb.sql(f"select * from read_csv('{path}')").fetchall()
    assert [tuple(r.values()) for r in got.to_pylist()] == expected
    assert got.column("all_empty").to_pylist() == [None, None, None]
    assert got.schema.field("s").type == pa.string()

    kept = sl.read_csv(str(path), empty_as_null=False).to_arrow()
    assert kept.column("s").to_pylist() == ["", "x", "z"]
    assert kept.column("q").to_pylist() == ["", "y", ""]
    assert kept.column("n").to_pylist() == [1, 2, None]  # numbers still read "" as null


def test_csv_row_longer_than_the_block_names_the_option(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_bytes(b"id,blob\n1,short\n2," + b"x" * (5 << 20) + b"\n3,end\n")
    with pytest.raises(errors.SluiceValueError, match=r"wide\.csv.*raise block_size"):
        sl.read_csv(str(path)).to_arrow()
    table = sl.read_csv(str(path), block_size=8 << 20).to_arrow()
    assert table.column("id").to_pylist() == [1, 2, 3]
    assert len(table.column("blob")[1].as_py()) == 5 << 20
    with pytest.raises(ValueError, match="block_size"):
        sl.read_csv(str(path), block_size=0)


@pytest.mark.parametrize("bad", INVALID_UTF8)
def test_invalid_utf8_in_csv_names_file_and_line_or_is_replaced(tmp_path, bad):
    path = tmp_path / "latin.csv"
    data = b"id,name\n1,ok\n\n2," + bad + b"\n3,fine\n"
    path.write_bytes(data)
    with pytest.raises(errors.SluiceValueError, match=r"latin\.csv: line 4: invalid UTF-8"):
        sl.read_csv(str(path)).to_arrow()
    replaced = sl.read_csv(str(path), encoding_errors="replace").to_arrow()
    assert replaced.column("name").to_pylist() == ["ok", bad.decode("utf-8", "replace"), "fine"]


@pytest.mark.parametrize("bad", INVALID_UTF8)
def test_invalid_utf8_in_json_names_file_and_line_or_is_replaced(tmp_path, bad):
    path = tmp_path / "latin.jsonl"
    path.write_bytes(b'{"s": "ok"}\n{"s": "' + bad + b'"}\n')
    with pytest.raises(errors.SluiceValueError, match=r"latin\.jsonl: line 2: invalid UTF-8"):
        sl.read_json(str(path)).to_arrow()
    replaced = sl.read_json(str(path), encoding_errors="replace").to_arrow()
    assert replaced.column("s").to_pylist() == ["ok", bad.decode("utf-8", "replace")]


def test_read_text_replaces_invalid_utf8_as_python_does(tmp_path):
    path = tmp_path / "mixed.txt"
    lines = [b"plain", *INVALID_UTF8, b"\xe2\x82", b"end \xe2\x82\xac"]
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(errors.SluiceValueError, match="line 2 is not valid UTF-8"):
        sl.read_text(str(path)).to_arrow()
    got = sl.read_text(str(path), encoding_errors="replace").to_arrow().column("text")
    assert got.to_pylist() == [line.decode("utf-8", "replace") for line in lines]
    with pytest.raises(ValueError, match="strict or replace"):
        sl.read_text(str(path), encoding_errors="ignore")


# ---- JSON nesting ---------------------------------------------------------------------


def nested_line(depth):
    """An object whose nesting is `depth` levels, the object itself included."""
    return '{"deep": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


@pytest.mark.parametrize("depth", [18_000, 100_000])
def test_json_nested_too_deep_is_a_fast_error_naming_file_and_line(tmp_path, depth):
    path = tmp_path / "deep.jsonl"
    path.write_text('{"a": 1}\n\n' + nested_line(depth) + "\n")
    start = time.perf_counter()
    for read in (lambda: sl.read_json(str(path)),
                 lambda: sl.read_json(str(path), schema=pa.schema([("a", pa.int64())])).to_arrow()):
        with pytest.raises(errors.SluiceValueError,
                           match=r"deep\.jsonl: line 3: JSON nested deeper than 1000 levels"):
            read()
    assert time.perf_counter() - start < 2
    # In the bad-record modes it is one more bad line.
    ds = sl.read_json(str(path), on_bad_lines="collect")
    assert ds.to_arrow().to_pylist() == [{"a": 1}]
    [reject] = rejects(ds)
    assert (reject["line"], reject["reason"]) == (3, "JSON nested deeper than 1000 levels "
                                                     "(the most Sluice reads)")


def test_json_backslash_before_a_line_break_does_not_hide_the_next_line(tmp_path):
    # Line 2 ends inside a string after a backslash: the break still ends it, so line 3's
    # brackets are counted. Line 2 fills the first 64 KiB block, so the deep line 3 is a
    # block of its own, which Arrow parses on another thread while the first one fails.
    path = tmp_path / "escape.jsonl"
    padding = "x" * 60_000
    path.write_text('{"a": 1}\n{"b": "' + padding + '\\\n' + nested_line(20_000) + "\n")
    sl.configure(num_threads=4)
    with pytest.raises(errors.SluiceValueError, match=r"escape\.jsonl: line [23]"):
        sl.read_json(str(path), block_size=65_536).to_arrow()
    assert sl.read_json(str(path), block_size=65_536, on_bad_lines="skip").count() == 1
    ds = sl.read_json(str(path), on_bad_lines="collect")
    assert ds.to_arrow().to_pylist() == [{"a": 1}]
    line_2, line_3 = rejects(ds)
    assert (line_2["line"], line_3["line"]) == (2, 3)
    assert line_3["reason"].startswith("JSON nested deeper than 1000 levels")


@pytest.mark.parametrize("mode", ["error", "skip"])
def test_json_values_outside_objects_and_byte_order_mark(tmp_path, mode):
    # Arrow's parser crashes on a line that is just null (found by the json_lines fuzzer):
    # every value outside an object is a bad record, found before Arrow sees it.
    path = tmp_path / "null.jsonl"
    path.write_text('null\n{"a": 1}\n')
    if mode == "error":
        with pytest.raises(errors.SluiceValueError, match=r"null\.jsonl: line 1: not a JSON object"):
            sl.read_json(str(path)).to_arrow()
    else:
        assert sl.read_json(str(path), on_bad_lines=mode).to_arrow().to_pylist() == [{"a": 1}]
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b'\xef\xbb\xbf{"a": 1}\n{"a": 2}\n')
    assert sl.read_json(str(bom), on_bad_lines=mode).to_arrow().to_pylist() == [{"a": 1}, {"a": 2}]


def test_csv_ragged_rows_without_header_are_an_error_not_a_crash(tmp_path):
    # Found by the csv fuzzer: explaining the error read the file numbered before its
    # columns were known and looked for a line-number column that was not there.
    path = tmp_path / "ragged.csv"
    path.write_bytes(b"a,b\n0\nA")
    with pytest.raises(errors.SluiceValueError, match=r"ragged\.csv: .*2 columns, got 1"):
        sl.read_csv(str(path), header=False).to_arrow()
    assert sl.read_csv(str(path), header=False, on_bad_lines="skip").to_arrow().to_pylist() == [
        {"f0": "a", "f1": "b"}]


def test_json_nested_at_the_limit_reads(tmp_path):
    path = tmp_path / "limit.jsonl"
    path.write_text('{"a": 1}\n' + nested_line(1000) + "\n")
    schema = pa.schema([("a", pa.int64())])
    assert sl.read_json(str(path), schema=schema).to_arrow().column("a").to_pylist() == [1, None]
    assert sl.read_json(str(path), schema=schema, on_bad_lines="skip").count() == 2


# ---- CSV bad-record modes ---------------------------------------------------------------

# Two files; in the second, line 4 is empty and line 6-7 hold a quoted value with a line
# break, so Arrow's own row count would be off. Every kind of bad record appears.
CSV_FIRST = b"id,score,name\n1,1.5,ann\n2,2.5,bob\n"
CSV_SECOND = (b"id,score,name\n"          # 1
              b"3,3.5,cy\n"               # 2
              b"4,4.5\n"                  # 3 too few fields
              b"\n"                       # 4
              b"5,five,dee\n"             # 5 score does not convert
              b'6,6.5,"two\n'             # 6
              b'lines"\n'                 # 7
              b"7,7.5,eve,extra\n"        # 8 too many fields
              b"eight,8.5,fay\n"          # 9 id does not convert
              b"9,9.5,g\xffh\n"           # 10 invalid UTF-8
              b"10,10.5,hal")             # 11, no line break at the end

CSV_GOOD = [(1, 1.5, "ann"), (2, 2.5, "bob"), (3, 3.5, "cy"), (6, 6.5, "two\nlines"),
            (10, 10.5, "hal")]
CSV_REJECTS = [
    (3, None, "expected 3 fields, found 2", "4,4.5"),
    (5, "score", "CSV conversion error to double: invalid value 'five'", "5,five,dee"),
    (8, None, "expected 3 fields, found 4", "7,7.5,eve,extra"),
    (9, "id", "CSV conversion error to int64: invalid value 'eight'", "eight,8.5,fay"),
    (10, None, "invalid UTF-8", "9,9.5,g\ufffdh"),
]


@pytest.fixture
def csv_dir(tmp_path):
    (tmp_path / "a.csv").write_bytes(CSV_FIRST)
    (tmp_path / "b.csv").write_bytes(CSV_SECOND)
    return tmp_path


@pytest.mark.parametrize("block_size", [None, 40])
def test_csv_bad_records_error_names_the_first(csv_dir, block_size):
    with pytest.raises(errors.SluiceValueError,
                       match=r"b\.csv: line 3: expected 3 fields, found 2"):
        sl.read_csv(str(csv_dir), newlines_in_values=True, block_size=block_size).to_arrow()
    # The first bad value, even when a row with a wrong field count follows in its block.
    (csv_dir / "b.csv").write_bytes(CSV_SECOND.replace(b"4,4.5\n", b"4,4.5,x\n"))
    with pytest.raises(errors.SluiceValueError,
                       match=r"b\.csv: line 5, column 'score': CSV conversion error to double: "
                             r"invalid value 'five'"):
        sl.read_csv(str(csv_dir), newlines_in_values=True, block_size=block_size).to_arrow()


@pytest.mark.parametrize("block_size", [None, 40])
def test_csv_bad_records_skipped(csv_dir, block_size):
    ds = sl.read_csv(str(csv_dir), newlines_in_values=True, on_bad_lines="skip",
                     block_size=block_size)
    assert [tuple(r.values()) for r in ds.to_arrow().to_pylist()] == CSV_GOOD
    assert stats(ds) == (5, 0)
    assert rejects(ds) == []
    assert "bad records: 5 skipped, 0 collected" in ds.stats()
    # The same rows are bad whichever columns are read.
    names = ds.select_columns(["name"])
    assert names.to_arrow().column("name").to_pylist() == [r[2] for r in CSV_GOOD]
    assert ds.count() == len(CSV_GOOD)


@pytest.mark.parametrize("block_size", [None, 40])
def test_csv_bad_records_collected(csv_dir, block_size):
    ds = sl.read_csv(str(csv_dir), newlines_in_values=True, on_bad_lines="collect",
                     block_size=block_size)
    assert [tuple(r.values()) for r in ds.to_arrow().to_pylist()] == CSV_GOOD
    assert stats(ds) == (0, 5)
    got = rejects(ds)
    assert {r["file"] for r in got} == {str(csv_dir / "b.csv")}
    assert [(r["line"], r["column"], r["reason"], r["record"]) for r in got] == CSV_REJECTS
    assert ds.rejects().schema() == pa.schema([
        pa.field("file", pa.string(), nullable=False), pa.field("line", pa.int64(), False),
        ("column", pa.string()), pa.field("reason", pa.string(), False),
        pa.field("record", pa.string(), False)])
    # The rejects belong to the Dataset that ran, and can be written like any dataset.
    out = ds.filter(sl.col("id") > 2)
    assert out.count() == 3
    assert len(rejects(out)) == 5
    out.rejects().write_parquet(str(csv_dir.parent / (csv_dir.name + "_rejects")))
    assert sl.read_parquet(str(csv_dir.parent / (csv_dir.name + "_rejects"))).count() == 5


@pytest.mark.parametrize("mode", ["error", "skip", "collect"])
def test_csv_with_a_byte_order_mark_in_every_mode(tmp_path, mode):
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfid,v\n1,a\n2,b,extra\n3,c\n")
    if mode == "error":
        with pytest.raises(errors.SluiceValueError, match=r"excel\.csv: line 3"):
            sl.read_csv(str(path)).to_arrow()
        return
    ds = sl.read_csv(str(path), on_bad_lines=mode)
    assert ds.columns() == ["id", "v"]
    assert ds.to_arrow().to_pylist() == [{"id": 1, "v": "a"}, {"id": 3, "v": "c"}]


def test_csv_bad_records_without_header_and_with_skip_rows(tmp_path):
    path = tmp_path / "raw.csv"
    path.write_bytes(b"# exported\n1;a\n2\nx;b\n3;c\n")
    ds = sl.read_csv(str(path), delimiter=";", header=False, skip_rows=1,
                     column_types={"f0": pa.int64()}, on_bad_lines="collect")
    assert ds.to_arrow().to_pylist() == [{"f0": 1, "f1": "a"}, {"f0": 3, "f1": "c"}]
    assert [(r["line"], r["column"], r["record"]) for r in rejects(ds)] == [
        (3, None, "2"), (4, "f0", "x;b")]
    named = sl.read_csv(str(path), delimiter=";", header=False, skip_rows=1,
                        column_names=["n", "s"], column_types={"n": pa.int64()},
                        on_bad_lines="skip")
    assert named.to_arrow().to_pylist() == [{"n": 1, "s": "a"}, {"n": 3, "s": "c"}]


def test_bad_record_options_are_checked(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a\n1\n")
    with pytest.raises(ValueError, match="error, skip or collect"):
        sl.read_csv(str(path), on_bad_lines="warn")
    with pytest.raises(ValueError, match="strict or replace"):
        sl.read_json(str(path), encoding_errors="ignore")
    assert sl.read_csv(str(path)).rejects().count() == 0  # before any execution


# ---- JSON bad-record modes --------------------------------------------------------------

JSON_FIRST = b'{"id": 1, "tags": ["a"], "name": "ann"}\n{"id": 2, "tags": [], "name": "bob"}\n'
JSON_SECOND = (b'{"id": 3, "name": "cy"}\n'                 # 1
               b"\n"                                        # 2
               b'{"id": "four", "name": "dee"}\n'           # 3 wrong type
               b'{"id": 5, "name": "eve"\n'                 # 4 incomplete
               b'[6, "fay"]\n'                              # 5 not an object
               b'{"id": 7, "name": "gus", "extra": true}\n' # 6 field outside the schema
               b'{"id": 8} {"id": 9}\n'                     # 7 two values
               b'{"id": 10, "name": "h\xffl"}\n'            # 8 invalid UTF-8
               b'{"id": 11, "name": ' + nested_line(1001).encode() + b"}\n"  # 9 too deep
               b'{"id": 12, "name": nul}\n'                 # 10 invalid JSON
               b'{"id": 13.5, "name": "ivy"}\n'             # 11 does not convert to int64
               b'{"id": 14, "name": "jo"}')                 # 12

JSON_GOOD = [(1, ["a"], "ann"), (2, [], "bob"), (3, None, "cy"), (14, None, "jo")]
JSON_REJECT_LINES = [3, 4, 5, 6, 7, 8, 9, 10, 11]


@pytest.fixture
def json_dir(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(JSON_FIRST)
    (tmp_path / "b.jsonl").write_bytes(JSON_SECOND)
    return tmp_path


def test_json_bad_lines_error_names_the_first(json_dir):
    with pytest.raises(errors.SluiceValueError, match=r"b\.jsonl: line 3: .*changed from "
                                                      r"number to string.*inferred"):
        sl.read_json(str(json_dir)).to_arrow()


@pytest.mark.parametrize("block_size", [None, 100])
def test_json_bad_lines_skipped_and_collected(json_dir, block_size):
    skipped = sl.read_json(str(json_dir), on_bad_lines="skip", block_size=block_size)
    assert [tuple(r.values()) for r in skipped.to_arrow().to_pylist()] == JSON_GOOD
    assert stats(skipped) == (len(JSON_REJECT_LINES), 0)

    ds = sl.read_json(str(json_dir), on_bad_lines="collect", block_size=block_size)
    assert [tuple(r.values()) for r in ds.to_arrow().to_pylist()] == JSON_GOOD
    assert stats(ds) == (0, len(JSON_REJECT_LINES))
    got = rejects(ds)
    assert [r["line"] for r in got] == JSON_REJECT_LINES
    assert {r["file"] for r in got} == {str(json_dir / "b.jsonl")}
    reasons = {r["line"]: r["reason"] for r in got}
    assert "changed from number to string" in reasons[3]
    assert reasons[4] == "incomplete JSON object (unbalanced brackets or quotes)"
    assert reasons[5] == "not a JSON object"
    assert "unexpected field" in reasons[6]
    assert reasons[7] == "more than one JSON value on the line"
    assert reasons[8] == "invalid UTF-8"
    assert reasons[9].startswith("JSON nested deeper than 1000 levels")
    assert "JSON parse error" in reasons[10]
    assert "int64" in reasons[11]
    records = {r["line"]: r["record"] for r in got}
    assert records[5] == '[6, "fay"]'
    assert records[8] == '{"id": 10, "name": "h\ufffdl"}'


def test_json_bad_lines_with_a_given_schema(json_dir):
    schema = pa.schema([("id", pa.int64()), ("name", pa.string())])
    ds = sl.read_json(str(json_dir / "b.jsonl"), schema=schema, on_bad_lines="collect")
    # Fields outside a given schema are ignored, so line 6 is good here.
    assert ds.to_arrow().column("id").to_pylist() == [3, 7, 14]
    assert [r["line"] for r in rejects(ds)] == [3, 4, 5, 7, 8, 9, 10, 11]
