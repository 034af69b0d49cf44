"""One filter grammar: ds.filter, read_parquet(filter=), read_table(filter=) and
sl.catalog.list_partitions take the same texts, SQL-style or Python-style, and the same
expressions; each is checked against DuckDB running the SQL."""

import pyarrow as pa
import pytest

import sluice as sl

FILTERS = [
    # (text or expression, the SQL DuckDB runs)
    ("year = 2015 AND marketplace IN ('US','UK')", "year = 2015 AND marketplace IN ('US','UK')"),
    ("year == 2015 and marketplace in ('US', 'UK')", "year = 2015 AND marketplace IN ('US','UK')"),
    ("NOT (year BETWEEN 2014 AND 2015) OR marketplace <> 'DE'",
     "NOT (year BETWEEN 2014 AND 2015) OR marketplace <> 'DE'"),
    ("year >= 2015 or marketplace == \"JP\"", "year >= 2015 OR marketplace = 'JP'"),
    # Double quotes: a string in Python-style (a column is named elsewhere), a column in SQL.
    ("\"marketplace\" = 'US' AND \"year\" <> 2013", "marketplace = 'US' AND year <> 2013"),
    ((sl.col("year") == 2016) & sl.col("marketplace").is_in(["DE", "JP"]),
     "year = 2016 AND marketplace IN ('DE','JP')"),
]


@pytest.fixture(scope="module")
def table_in_catalog(tmp_path_factory):
    root = tmp_path_factory.mktemp("grammar")
    rows = 600
    data = pa.table({
        "year": [2013 + i % 4 for i in range(rows)],
        "marketplace": [["US", "UK", "DE", "JP"][(i // 4) % 4] for i in range(rows)],
        "v": list(range(rows)),
    })
    session = sl.Session(catalog=root / "catalog.db", progress=False)
    session.from_arrow(data).write_parquet(str(root / "t"), partition_cols=["year", "marketplace"],
                                           table="db.t")
    return session, root / "t", data


@pytest.mark.parametrize("predicate,sql", FILTERS)
def test_every_call_takes_the_same_filters(table_in_catalog, duck, predicate, sql):
    session, path, data = table_in_catalog
    duck.register("t", data)
    expected = sorted(duck.execute(f"SELECT v FROM t WHERE {sql}").fetchall())
    expected_partitions = sorted(
        f"year={y}/marketplace={m}"
        for y, m in duck.execute(f"SELECT DISTINCT year, marketplace FROM t WHERE {sql}").fetchall())
    assert expected and len(expected) < data.num_rows  # the filter keeps some, not all

    def values(ds):
        return sorted((v,) for v in ds.to_arrow()["v"].to_pylist())

    with session:
        assert values(sl.read_parquet(str(path)).filter(predicate)) == expected
        assert values(sl.read_parquet(str(path), filter=predicate)) == expected
        assert values(sl.read_table("db.t", filter=predicate)) == expected
        partitions = sl.catalog.list_partitions("db.t", predicate)
    assert sorted(p["spec"] for p in partitions) == expected_partitions


def test_a_text_neither_grammar_reads_says_why_in_both():
    with pytest.raises(ValueError, match=r"cannot parse filter .* at position .*Python-style"):
        sl.range(3).filter("id = = 1")
    with pytest.raises(ValueError, match="cannot parse filter"):
        sl.read_parquet("does-not-matter", filter="id <")
