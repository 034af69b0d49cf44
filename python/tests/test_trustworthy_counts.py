"""count() answers from Parquet footers only when the footer agrees with itself; files
whose row counts disagree (a valid file from parquet-testing, corrupt footers made here by
editing the Thrift footer) are read to count, so count() always equals the rows read."""

import copy
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import parquet_footer as footer
import sluice as sl
from sluice import errors

DATA = Path(__file__).parent / "data"


def write_two_row_groups(path):
    """A file of 5 rows in row groups of 3 and 2."""
    pq.write_table(pa.table({"a": [1, 2, 3, 4, 5], "b": list("vwxyz")}), path, row_group_size=3)
    return path


def set_file_rows(path, rows):
    meta = footer.read_footer(path)
    meta.set(footer.FILE_NUM_ROWS, rows)
    footer.write_footer(path, meta)


def test_count_of_a_file_whose_footer_says_zero_rows_for_six():
    # Valid file from parquet-testing: num_rows 0 in the footer, one row group of 6 rows.
    path = DATA / "repeated_no_annotation.parquet"
    assert pq.ParquetFile(path).metadata.num_rows == 0
    expected = pq.read_table(path).num_rows
    assert expected == 6
    ds = sl.read_parquet(str(path))
    assert ds.to_arrow().num_rows == expected
    assert ds.count() == expected


@pytest.mark.parametrize("file_rows", [100, 4, 0, -7])
def test_count_reads_when_file_rows_disagree_with_row_groups(tmp_path, file_rows):
    path = write_two_row_groups(tmp_path / "lying.parquet")
    set_file_rows(path, file_rows)
    ds = sl.read_parquet(str(path))
    assert ds.to_arrow().num_rows == 5
    assert ds.count() == 5
    assert ds.limit(4).count() == 4
    assert ds.limit(4).to_arrow().num_rows == 4


def test_count_of_a_directory_with_one_inconsistent_footer(tmp_path):
    for i in range(3):
        write_two_row_groups(tmp_path / f"part-{i}.parquet")
    set_file_rows(tmp_path / "part-1.parquet", 0)
    ds = sl.read_parquet(str(tmp_path))
    assert ds.to_arrow().num_rows == 15
    assert ds.count() == 15
    assert ds.limit(12).to_arrow().num_rows == 12


def test_negative_row_group_count_never_gives_a_negative_count(tmp_path):
    path = write_two_row_groups(tmp_path / "negative.parquet")
    meta = footer.read_footer(path)
    groups = footer.row_groups(meta)
    groups[1].set(footer.ROW_GROUP_NUM_ROWS, -2)
    meta.set(footer.FILE_NUM_ROWS, 1)  # the sum of 3 and -2: consistent but negative
    footer.write_footer(path, meta)
    ds = sl.read_parquet(str(path))
    try:
        rows = ds.to_arrow().num_rows
    except errors.SluiceError as e:
        assert "negative.parquet" in str(e)
        with pytest.raises(errors.SluiceError, match="negative.parquet"):
            ds.count()
    else:
        assert ds.count() == rows


def test_consistent_footer_is_still_counted_from_metadata(tmp_path):
    # Pages overwritten with garbage, footer intact: count() answers from the footer
    # without reading the pages, which would fail.
    path = write_two_row_groups(tmp_path / "consistent.parquet")
    data = bytearray(path.read_bytes())
    footer_length = int.from_bytes(data[-8:-4], "little")
    data[4:len(data) - 8 - footer_length] = b"\xff" * (len(data) - 12 - footer_length)
    path.write_bytes(bytes(data))
    ds = sl.read_parquet(str(path))
    assert ds.count() == 5
    with pytest.raises(errors.SluiceError, match="consistent.parquet"):
        ds.to_arrow()


def test_footer_whose_row_counts_disagree_with_column_values(tmp_path):
    # Row groups and file agree (1000 + 1000 = 2000) but the column chunks hold 3 and 2
    # values: Arrow reads what the pages hold, so must count().
    path = write_two_row_groups(tmp_path / "values.parquet")
    meta = footer.read_footer(path)
    for group in footer.row_groups(meta):
        group.set(footer.ROW_GROUP_NUM_ROWS, 1000)
    meta.set(footer.FILE_NUM_ROWS, 2000)
    footer.write_footer(path, meta)
    ds = sl.read_parquet(str(path))
    assert ds.to_arrow().num_rows == pq.read_table(path).num_rows == 5
    assert ds.count() == 5
    # A limit past the first row group's real rows reads on into the second.
    assert ds.limit(4).to_arrow().num_rows == 4
    assert ds.limit(4).count() == 4


def test_crawl_records_unknown_rows_for_an_inconsistent_footer(tmp_path, catalog_file):
    table_dir = tmp_path / "t"
    for k in (1, 2):
        (table_dir / f"k={k}").mkdir(parents=True)
    write_two_row_groups(table_dir / "k=1" / "good.parquet")
    set_file_rows(write_two_row_groups(table_dir / "k=2" / "lying.parquet"), 0)
    sl.catalog.crawl(str(table_dir), "default.t")
    partitions = sl.catalog.list_partitions("default.t")
    assert sorted((p["spec"], p["rows"]) for p in partitions) == [("k=1", 5), ("k=2", -1)]


@pytest.mark.parametrize("edit", ["extra_column_chunk", "missing_column_chunk"])
def test_row_group_with_wrong_number_of_column_chunks_names_the_file(tmp_path, edit):
    path = tmp_path / f"{edit}.parquet"
    pq.write_table(pa.table({"a": [1, 2, 3], "b": ["x", "y", None], "c": [1.0, 2.0, 3.0]}), path)
    meta = footer.read_footer(path)
    chunks = footer.row_groups(meta)[0].get(footer.ROW_GROUP_COLUMNS)[1]
    if edit == "extra_column_chunk":
        chunks.append(copy.deepcopy(chunks[-1]))
    else:
        chunks.pop()
    footer.write_footer(path, meta)
    # Was a bare RuntimeError("Invalid Column Index: 3 Num columns: 3") without the file.
    # The footer's column chunks are decoded when it is read, so the error may come as
    # early as read_parquet.
    with pytest.raises(errors.SluiceIOError, match=f"{edit}.parquet"):
        sl.read_parquet(str(path)).to_arrow()
    try:
        ds = sl.read_parquet(str(path))
    except errors.SluiceIOError as e:
        assert f"{edit}.parquet: corrupt Parquet footer" in str(e)
        return
    for action in (ds.size_bytes, ds.count,
                   lambda: ds.select_columns(["a"]).size_bytes(),
                   lambda: ds.filter(sl.col("a") > 1).to_arrow(),
                   lambda: ds.limit(1).to_arrow()):
        try:
            action()
        except errors.SluiceError as e:
            assert f"{edit}.parquet" in str(e)
