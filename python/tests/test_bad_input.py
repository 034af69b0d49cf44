"""Bad input gets a clear Python exception naming the file (and row/column where known):
never a crash, a hang or silently dropped rows."""

import gzip
import json
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import sluice as sl
from sluice import errors


def write_parquet(path, rows=1000):
    pq.write_table(pa.table({"a": list(range(rows)), "b": [str(i) for i in range(rows)]}), path)


def test_missing_path(tmp_path):
    missing = tmp_path / "nope.parquet"
    with pytest.raises(errors.SluiceIOError, match="nope.parquet"):
        sl.read_parquet(str(missing))
    with pytest.raises(OSError):
        sl.read_csv(str(tmp_path / "nope.csv"))
    with pytest.raises(OSError, match="nothing"):
        sl.read_text(str(tmp_path / "nothing*.txt"))


def test_corrupt_parquet(tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"this is not parquet at all" * 10)
    with pytest.raises(errors.SluiceError, match="bad.parquet"):
        sl.read_parquet(str(bad)).to_arrow()


def test_truncated_parquet(tmp_path):
    good = tmp_path / "good.parquet"
    write_parquet(good, 100_000)
    data = good.read_bytes()
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(errors.SluiceError, match="cut.parquet"):
        sl.read_parquet(str(cut)).to_arrow()


def test_corrupt_file_among_good_ones_is_named(tmp_path):
    for i in range(3):
        write_parquet(tmp_path / f"part-{i}.parquet")
    (tmp_path / "part-9.parquet").write_bytes(b"PAR1garbagePAR1")
    with pytest.raises(errors.SluiceError, match="part-9.parquet"):
        sl.read_parquet(str(tmp_path)).to_arrow()


def test_truncated_gzip(tmp_path):
    body = "a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(200_000))
    packed = gzip.compress(body.encode())
    path = tmp_path / "data.csv.gz"
    path.write_bytes(packed[: len(packed) * 2 // 3])
    with pytest.raises(errors.SluiceError, match="data.csv.gz"):
        sl.read_csv(str(path)).to_arrow()


def test_ragged_csv_row(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n1,2,3\n4,5\n6,7,8\n")
    with pytest.raises(errors.SluiceError, match="ragged.csv") as info:
        sl.read_csv(str(path)).to_arrow()
    assert "column" in str(info.value).lower() or "row" in str(info.value).lower()


def test_value_that_does_not_fit_the_inferred_type(tmp_path):
    # The first file fixes column "n" as int64; the second file has text in it.
    (tmp_path / "1.csv").write_text("n,s\n1,x\n2,y\n")
    (tmp_path / "2.csv").write_text("n,s\n3,z\nfour,w\n")
    with pytest.raises(errors.SluiceError, match="2.csv") as info:
        sl.read_csv(str(tmp_path)).to_arrow()
    assert "four" in str(info.value) or "n" in str(info.value)


def test_value_that_does_not_fit_a_declared_type(tmp_path):
    path = tmp_path / "typed.csv"
    path.write_text("n\n1\n2\n3.5\n")
    with pytest.raises(errors.SluiceError, match="typed.csv"):
        sl.read_csv(str(path), column_types={"n": pa.int32()}).to_arrow()


def test_malformed_json_line(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": \n{"a": 4}\n')
    with pytest.raises(errors.SluiceError, match="rows.jsonl"):
        sl.read_json(str(path)).to_arrow()


def test_udf_returning_wrong_type():
    with pytest.raises(TypeError, match="must return"):
        sl.range(10).map_batches(lambda b: 42).to_arrow()


def test_bad_arguments():
    with pytest.raises(ValueError, match="batch_format"):
        sl.range(3).map_batches(lambda b: b, batch_format="excel")
    with pytest.raises(ValueError, match="mode"):
        sl.range(3).write_parquet("/tmp/sluice-never", mode="sometimes")
    with pytest.raises(errors.SluiceValueError, match="limit"):
        sl.range(3)._ds.limit(-1)


def test_parquet_footer_that_parquet_cpp_cannot_decode_is_an_error_not_an_abort(tmp_path):
    # Found by cpp/fuzz/parquet_fuzzer (cpp/fuzz/regressions/parquet/): one byte of the
    # schema changed (a field's thrift type i32 -> i64) makes parquet-cpp throw
    # ParquetException ("Definition level histogram size mismatch") from the footer
    # accessors Sluice calls to plan its tasks: a bare RuntimeError without the file here,
    # an abort where nothing catches it (a worker thread, C++ callers).
    table = pa.table({"struct_list": pa.array([{"l": [1]}, {"l": None}, None, {"l": [2, 3]}],
                                              pa.struct([("l", pa.list_(pa.int64()))]))})
    good = tmp_path / "good.parquet"
    pq.write_table(table, good)
    data = good.read_bytes()
    field = b"\x18\x0bstruct_list\x15\x02\x005"
    assert data.count(field) == 1
    bad = tmp_path / "damaged.parquet"
    bad.write_bytes(data.replace(field, field[:-1] + b"6"))
    with pytest.raises(errors.SluiceIOError, match="damaged.parquet: corrupt Parquet footer"):
        sl.read_parquet(str(bad)).to_arrow()


@pytest.mark.parametrize("data", [b"\xc3\n\xa9\n", b"caf\xc3\r\n\xa9\n", b"\xcb\n\n\x82\n"])
def test_text_line_ending_inside_a_character_is_invalid_utf8(tmp_path, data):
    # Found by cpp/fuzz/text_fuzzer (cpp/fuzz/regressions/text/): the lines are stored back
    # to back without their breaks, so "\xc3" and "\xa9" passed the whole-batch UTF-8
    # check as "é" and reached the string column invalid.
    path = tmp_path / "split.txt"
    path.write_bytes(data)
    for drop_empty_lines in (False, True):
        with pytest.raises(errors.SluiceError, match="not valid UTF-8"):
            sl.read_text(str(path), drop_empty_lines=drop_empty_lines).to_arrow()


@pytest.mark.parametrize("field", ['"committed_at_ms": 1e30', '"rows": 1e30', '"snapshot": 2.5'])
def test_manifest_number_that_is_not_an_int64_is_an_error(tmp_path, field):
    # Found by cpp/fuzz/manifest_fuzzer (cpp/fuzz/regressions/manifest/): a float beyond
    # int64's range was cast to int64, which is undefined behaviour.
    sl.from_arrow(pa.table({"a": [1, 2, 3]})).write_parquet(str(tmp_path / "t"))
    manifest = tmp_path / "t" / "_SUCCESS"
    text = manifest.read_text()
    key = field.split(":")[0]
    damaged = re.sub(key + r": -?[0-9]+", field, text)
    assert damaged != text
    manifest.write_text(damaged)
    with pytest.raises(errors.SluiceError, match="is not an integer"):
        sl.read_parquet(str(tmp_path / "t")).to_arrow()


def test_manifest_listing_a_file_twice_is_an_error(tmp_path):
    # Found by cpp/fuzz/manifest_fuzzer (cpp/fuzz/regressions/manifest/): a file listed
    # twice was read twice.
    sl.from_arrow(pa.table({"a": [1, 2, 3]})).write_parquet(str(tmp_path / "t"))
    manifest = tmp_path / "t" / "_SUCCESS"
    document = json.loads(manifest.read_text())
    document["files"] = document["files"] * 2
    manifest.write_text(json.dumps(document))
    with pytest.raises(errors.SluiceError, match="more than once"):
        sl.read_parquet(str(tmp_path / "t")).to_arrow()
