"""Errors say what and where: the file (and column) at fault, the right exception class,
every byte of messages and names kept (escaped when not UTF-8, never a
UnicodeDecodeError); gzip padding and garbage told apart from truncation; partition values
too long for the filesystem and empty table names refused with a reason."""

import gzip
import os

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import sluice as sl
from sluice import errors


# ---- bytes that are not UTF-8 ----------------------------------------------------------

def test_error_naming_a_file_whose_name_is_not_utf8(tmp_path):
    with open(os.path.join(os.fsencode(tmp_path), b"bad-\xff.parquet"), "wb") as out:
        out.write(b"PAR1 not parquet PAR1")
    with pytest.raises(errors.SluiceError, match=r"bad-\\xff\.parquet"):
        sl.read_parquet(str(tmp_path)).to_arrow()


def latin1_named_parquet(tmp_path):
    """A Parquet file whose first column is named b"caf\xe9" (Latin-1): pyarrow only writes
    str names, so "cafX" is written and its bytes patched in the footer (same length)."""
    path = tmp_path / "latin1.parquet"
    pq.write_table(pa.table({"cafX": [1], "n": [2]}), path)
    data = path.read_bytes()
    assert data.count(b"cafX") >= 1
    path.write_bytes(data.replace(b"cafX", b"caf\xe9"))
    return path


def test_column_list_in_an_error_shows_invalid_utf8_escaped(tmp_path):
    ds = sl.read_parquet(str(latin1_named_parquet(tmp_path)))
    with pytest.raises(errors.ColumnNotFoundError, match=r"caf\\xe9"):
        ds.select_columns(["nope"])


def test_column_name_that_is_not_utf8_is_shown_escaped(tmp_path):
    ds = sl.read_parquet(str(latin1_named_parquet(tmp_path)))
    assert ds.columns() == ["caf\\xe9", "n"]
    table = ds.to_arrow()
    assert table.column_names == ["caf\\xe9", "n"]
    assert table.column(0).to_pylist() == [1]


def test_csv_header_that_is_not_utf8_is_an_error_naming_the_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"caf\xe9,n\n1,2\n")
    with pytest.raises(errors.SluiceValueError, match=r"latin1\.csv: line 1: the header is not "
                                                      r"valid UTF-8"):
        sl.read_csv(str(path))


def test_partition_directory_that_is_not_utf8_is_named(tmp_path):
    directory = os.path.join(os.fsencode(tmp_path), b"k=\xff")
    os.makedirs(directory)
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"a": [1]}), sink)
    with open(os.path.join(directory, b"f.parquet"), "wb") as out:
        out.write(sink.getvalue().to_pybytes())
    with pytest.raises(errors.SluiceValueError, match=r"k=\\xff/f\.parquet.*not valid UTF-8"):
        sl.read_parquet(str(tmp_path)).to_arrow()


def test_explain_shows_invalid_utf8_escaped(tmp_path):
    name = os.path.join(os.fsencode(tmp_path), b"data-\xff.csv")
    with open(name, "wb") as out:
        out.write(b"a\n1\n")
    text = sl.read_csv(str(tmp_path)).explain_string()
    assert r"data-\xff.csv" in text


# ---- names with NUL bytes -------------------------------------------------------------

def test_parquet_column_name_with_nul_keeps_every_byte(tmp_path):
    path = tmp_path / "nul.parquet"
    table = pa.table({"a\x00b": [1, 2], "c": [3, 4]})
    pq.write_table(table, path)
    assert pq.read_schema(path).names == ["a\x00b", "c"]
    ds = sl.read_parquet(str(path))
    assert ds.columns() == ["a\x00b", "c"]
    assert ds.to_arrow().equals(table)
    assert ds.select_columns(["a\x00b"]).to_arrow().column_names == ["a\x00b"]
    assert [b.schema.names for b in ds.iter_batches(batch_format="pyarrow")] == [["a\x00b", "c"]]
    # Through a user function and back.
    assert ds.map_batches(lambda b: b, batch_format="pyarrow").to_arrow().equals(table)


def test_csv_header_with_nul_keeps_every_byte(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"a\x00b,c\n1,2\n")
    expected = pacsv.read_csv(path)
    assert expected.column_names == ["a\x00b", "c"]
    ds = sl.read_csv(str(path))
    assert ds.columns() == ["a\x00b", "c"]
    assert ds.to_arrow().equals(expected)


# ---- gzip -----------------------------------------------------------------------------

CSV_BODY = "a,b\n" + "".join(f"{i},{i * 3}\n" for i in range(5000))


def read_gzip_csv(tmp_path, data: bytes):
    path = tmp_path / "data.csv.gz"
    path.write_bytes(data)
    return sl.read_csv(str(path)).to_arrow()


def expected_rows(data: bytes) -> int:
    return gzip.decompress(data).decode().count("\n") - 1  # Python's reading, less the header


def test_gzip_trailing_zero_padding_is_accepted(tmp_path):
    data = gzip.compress(CSV_BODY.encode()) + b"\x00" * 1000
    assert read_gzip_csv(tmp_path, data).num_rows == expected_rows(data) == 5000


def test_gzip_members_with_padding_between_across_a_read_chunk(tmp_path):
    # The second member's magic straddles the reader's 1 MiB chunk boundary.
    first = gzip.compress(CSV_BODY.encode())
    second = gzip.compress("".join(f"{i},{i}\n" for i in range(10)).encode())
    data = first + b"\x00" * ((1 << 20) - 1 - len(first)) + second + b"\x00" * 3
    assert read_gzip_csv(tmp_path, data).num_rows == expected_rows(data) == 5010


def test_gzip_multi_member_still_reads(tmp_path):
    body = CSV_BODY.encode()
    data = gzip.compress(body[:1000]) + gzip.compress(body[1000:])
    assert read_gzip_csv(tmp_path, data).num_rows == 5000


@pytest.mark.parametrize("garbage", [b"x", b"hello\n", b"\x1f", b"\x1f\x00junk",
                                     b"\x00\x00more"])
def test_gzip_trailing_garbage_is_reported_as_such(tmp_path, garbage):
    data = gzip.compress(CSV_BODY.encode()) + garbage
    with pytest.raises(errors.SluiceIOError) as info:
        read_gzip_csv(tmp_path, data)
    message = str(info.value)
    assert "data.csv.gz" in message
    if garbage == b"\x1f":  # could be the start of a member: it ends inside its header
        assert "truncated" in message
    else:
        assert "trailing garbage after gzip data" in message
        assert "truncated" not in message


def test_gzip_truncation_is_still_truncation(tmp_path):
    data = gzip.compress(CSV_BODY.encode())
    for cut in (len(data) // 2, len(data) - 4):
        with pytest.raises(errors.SluiceIOError, match="data.csv.gz: truncated gzip stream"):
            read_gzip_csv(tmp_path, data[:cut])
    # A truncated second member too.
    with pytest.raises(errors.SluiceIOError, match="truncated gzip stream"):
        read_gzip_csv(tmp_path, data + data[:20])


def test_gzip_corrupt_member_after_a_good_one(tmp_path):
    second = bytearray(gzip.compress(CSV_BODY.encode()))
    second[-6] ^= 0xFF  # in the member's CRC-32
    with pytest.raises(errors.SluiceIOError, match="data.csv.gz: gzip decompression failed"):
        read_gzip_csv(tmp_path, gzip.compress(b"a,b\n1,2\n") + bytes(second))


# ---- writes ---------------------------------------------------------------------------

def test_partition_value_too_long_for_the_filesystem(tmp_path):
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    value = "v" * (limit + 10)
    ds = sl.from_arrow(pa.table({"key": [value, "short"], "n": [1, 2]}))
    with pytest.raises(errors.SluiceIOError) as info:
        ds.write_parquet(str(tmp_path / "out"), partition_cols=["key"])
    message = str(info.value)
    assert "partition column 'key'" in message
    assert "too long for the filesystem" in message
    assert str(limit) in message
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_empty_table_name_is_an_error(tmp_path, catalog_file):
    ds = sl.from_arrow(pa.table({"n": [1]}))
    with pytest.raises(errors.SluiceValueError, match="table name '' is not valid"):
        ds.write_parquet(str(tmp_path / "out"), table="")
    assert sl.catalog.list_databases() == []
    assert not (tmp_path / "out").exists()
