"""Expressions and predicate text whose size the input controls: long AND / OR chains work at
any length, other nesting stops at a documented limit with a clear error — never a stack
overflow (issue 12: 10,000 OR-ed terms and 10,000 nested parentheses used to crash)."""

import functools
import operator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import sluice as sl
from sluice.errors import SluiceValueError
from sluice.expressions import MAX_EXPRESSION_DEPTH


@pytest.fixture(scope="module")
def numbers(tmp_path_factory):
    """a = 0..19999 in four row groups, as Parquet."""
    path = tmp_path_factory.mktemp("numbers") / "numbers.parquet"
    pq.write_table(pa.table({"a": pa.array(range(20_000), pa.int64())}), path,
                   row_group_size=5_000)
    return str(path)


def test_ten_thousand_ored_terms_in_a_parquet_filter(numbers):
    # The reported crash: functools.reduce(operator.or_, ...) pushed into the Parquet reader.
    wanted = range(0, 30_000, 3)  # 10,000 values, 6,667 of them in the file
    expr = functools.reduce(operator.or_, [sl.col("a") == v for v in wanted])
    expected = sum(1 for v in wanted if v < 20_000)
    assert sl.read_parquet(numbers).filter(expr).count() == expected
    got = sl.read_parquet(numbers, filter=expr).to_arrow()
    assert sorted(got["a"].to_pylist()) == [v for v in wanted if v < 20_000]
    # Terms that are not equalities on one column stay terms (n-ary calls).
    mixed = functools.reduce(operator.or_, [(sl.col("a") >= v) & (sl.col("a") < v + 2)
                                            for v in range(0, 100_000, 10)])
    assert sl.read_parquet(numbers).filter(mixed).count() == 4_000
    assert "..." in repr(mixed)  # shown shortened, not as 300 kB of text


def test_hundred_thousand_terms_of_and_and_or():
    ds = sl.from_items([{"a": i, "b": i % 7} for i in range(50)])
    any_of = functools.reduce(operator.or_, [sl.col("a") == 10 * i for i in range(100_000)])
    assert ds.filter(any_of).count() == 5
    # Pushed below a projection and split into its terms by the optimizer.
    all_of = functools.reduce(operator.and_, [sl.col("a") != 10 * i + 1 for i in range(100_000)])
    both = ds.select_columns(["a", "b"]).filter(all_of & (sl.col("b") == 0))
    assert sorted(both.to_arrow()["a"].to_pylist()) == [0, 7, 14, 28, 35, 42, 49]


def test_or_of_equalities_keeps_what_equality_means():
    # 16+ equalities on one column become a set lookup only where that cannot change a row.
    floats = sl.from_arrow(pa.table({"x": [-0.0, 0.0, 1.0, float("nan"), None]}))
    any_small = functools.reduce(operator.or_, [sl.col("x") == i for i in range(20)])
    assert floats.filter(any_small).count() == 3  # -0.0 == 0 although it hashes apart
    narrow = sl.from_arrow(pa.table({"x": pa.array([-5, 3, 100, None], pa.int8())}))
    beyond = functools.reduce(operator.or_, [sl.col("x") == v for v in range(90, 300)])
    assert narrow.filter(beyond).count() == 1  # 200..299 do not fit int8: no match, no error
    wide = sl.from_arrow(pa.table({"x": pa.array([5, 150, None], pa.int64())}))
    chain = functools.reduce(operator.or_, [sl.col("x") == v for v in range(100, 200)])
    assert "is_in" in wide.filter(chain).explain_string()
    assert wide.filter(chain).count() == 1
    assert wide.add_column("m", chain).to_arrow()["m"].to_pylist() == [False, True, None]


def test_long_chains_keep_kleene_logic():
    # 40 terms take the n-ary path (more than 16); compare with Arrow's binary chain.
    values = [True, False, None]
    rows = [{f"c{j}": values[(i * (j + 1) + j) % 3] for j in range(40)} for i in range(60)]
    rows.append({f"c{j}": False for j in range(40)})
    rows.append({f"c{j}": None if j == 5 else False for j in range(40)})
    rows.append({f"c{j}": None if j == 5 else True for j in range(40)})
    table = pa.Table.from_pylist(rows)
    columns = [f"c{j}" for j in range(40)]
    for op, arrow_op in [(operator.or_, pc.or_kleene), (operator.and_, pc.and_kleene)]:
        expr = functools.reduce(op, [sl.col(c) for c in columns] + [sl.lit(None)])
        got = sl.from_arrow(table).add_column("r", expr).to_arrow()["r"]
        expected = functools.reduce(arrow_op, [table[c] for c in columns] +
                                    [pa.nulls(len(table), pa.bool_())])
        assert got.to_pylist() == expected.to_pylist()


def test_other_nesting_stops_at_the_limit_with_a_clear_error():
    expr = sl.col("a") > 0
    with pytest.raises(SluiceValueError, match=f"the limit is {MAX_EXPRESSION_DEPTH}"):
        for _ in range(100_000):
            expr = ~expr
    value = sl.col("a")
    with pytest.raises(SluiceValueError, match="levels deep"):
        for _ in range(100_000):
            value = -value
    with pytest.raises(SluiceValueError, match="levels deep"):
        for i in range(100_000):
            value = value + i
    # Alternating & and | nest one level per operator.
    nested = sl.col("a") == 0
    with pytest.raises(SluiceValueError, match="levels deep"):
        for i in range(100_000):
            nested = (nested | (sl.col("a") == i)) if i % 2 else (nested & (sl.col("a") != i))
        sl.from_items([{"a": 1}]).filter(nested)


def test_operators_that_use_an_operand_twice_cannot_grow_it_exponentially(tmp_path, catalog_file):
    # An expression that uses a subexpression twice writes it out twice: e == e forty times
    # over is 2^40 nodes. Refused past 1,000,000 nodes, before anything walks it.
    value = sl.col("a")
    with pytest.raises(SluiceValueError, match="the limit is 1000000"):
        for _ in range(60):
            value = value == value
        sl.from_items([{"a": 1}]).add_column("m", value)
    sl.from_arrow(pa.table({"a": [1], "p": [1]})).write_parquet(
        str(tmp_path / "t"), partition_cols=["p"], table="db.t")
    # SQL's x BETWEEN lo AND hi is x >= lo AND x <= hi: x twice.
    with pytest.raises(SluiceValueError, match="grows past 1000000"):
        sl.catalog.list_partitions("db.t", "(" * 30 + "p" + " BETWEEN 0 AND 1)" * 30)


def test_chained_modulo_grows_linearly_and_gives_pythons_remainders(tmp_path, catalog_file):
    # % used to be a - floor(a / b) * b, which doubled per %: the predicate fuzzer found 54
    # bytes of chained % that took 40 s. It is one native call now (python_modulo).
    divisors = [3, -7, 2.5, 11, -1.5] * 40
    value = sl.col("a")
    for d in divisors:
        value = value % d
    rows = [10, -7, 0, 123456789, -2.75, 1e300]
    expected = []
    for a in rows:
        r = float(a)
        for d in divisors:
            r = r % d
        expected.append(r)
    got = sl.from_items([{"a": float(a)} for a in rows]).add_column("m", value).to_arrow()
    assert got["m"].to_pylist() == expected
    # The same through the SQL grammar, on a partition column and in a Parquet filter.
    sl.from_arrow(pa.table({"a": [1, 2, 3, 4], "p": [1, 2, 3, 4]})).write_parquet(
        str(tmp_path / "t"), partition_cols=["p"], table="db.t")
    chain = " % 5" * 100
    assert sorted(p["spec"] for p in sl.catalog.list_partitions("db.t", f"p{chain} % 2 = 1")) \
        == ["p=1", "p=3"]
    assert sorted(sl.read_table("db.t", filter=f"a{chain} % 2 = 0").to_arrow()["a"].to_pylist()) \
        == [2, 4]
    assert sorted(sl.read_parquet(str(tmp_path / "t"), filter=(sl.col("a") % -3) == -1)
                  .to_arrow()["a"].to_pylist()) == [2]


def test_an_expression_at_the_limit_still_runs(numbers):
    expr = sl.col("a") < 100
    for _ in range(MAX_EXPRESSION_DEPTH - 3):  # an even number of NOTs: same rows
        expr = ~expr
    ds = sl.read_parquet(numbers).filter(expr)
    assert ds.count() == (100 if (MAX_EXPRESSION_DEPTH - 3) % 2 == 0 else 19_900)


def test_ray_style_filter_text():
    ds = sl.from_items([{"x": i} for i in range(100)])
    text = " or ".join(f"x == {i}" for i in range(0, 20_000, 10))
    assert ds.filter(expr=text).count() == 10
    with pytest.raises(ValueError, match="nested too deeply|too many nested"):
        ds.filter(expr="(" * 10_000 + "x > 1" + ")" * 10_000)


def test_catalog_filter_text(tmp_path, catalog_file):
    table = pa.table({"v": list(range(9)), "p": [i % 3 for i in range(9)]})
    sl.from_arrow(table).write_parquet(str(tmp_path / "t"), partition_cols=["p"], table="db.t")
    many = " OR ".join(f"p = {i}" for i in range(0, 200_000, 2))  # 100,000 terms
    assert [p["spec"] for p in sl.catalog.list_partitions("db.t", many)] == ["p=0", "p=2"]
    assert sl.read_table("db.t", filter=many).count() == 6
    deep = "(" * 128 + "NOT " * 126 + "p = 1" + ")" * 128  # 254 levels; the NOTs cancel
    assert [p["spec"] for p in sl.catalog.list_partitions("db.t", deep)] == ["p=1"]
    for hostile in ["(" * 10_000 + "p = 1" + ")" * 10_000,
                    "NOT " * 10_000 + "p = 1",
                    "p = " + "-" * 10_000 + "1",
                    "p + " + " + ".join(["1"] * 10_000) + " = 3",
                    "p IN (" + "-" * 10_000 + "1)"]:
        with pytest.raises(SluiceValueError,
                           match="nests more than 1000 levels|nest more than 256 levels"):
            sl.catalog.list_partitions("db.t", hostile)
