"""Dataset.join, checked against DuckDB on the same tables. Join output has no defined
order, so rows are compared sorted."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import sluice as sl

JOIN_TYPES = ["inner", "left", "right", "outer", "semi", "anti"]


def sorted_rows(rows):
    return sorted((tuple(r) for r in rows), key=repr)


def sluice_rows(ds):
    table = ds.to_arrow()
    return sorted_rows(zip(*[table.column(i).to_pylist() for i in range(table.num_columns)]))


def duckdb_join(duck, left, right, left_on, right_on, how, suffix="_right"):
    """The rows DuckDB gives for the join, with Sluice's output columns spelled out in SQL
    (left columns, then the right ones; a key named alike on both sides shown once)."""
    duck.register("l", left)
    duck.register("r", right)
    condition = " AND ".join(f'l."{a}" = r."{b}"' for a, b in zip(left_on, right_on))
    if how in ("semi", "anti"):
        exists = "EXISTS" if how == "semi" else "NOT EXISTS"
        sql = f"SELECT l.* FROM l WHERE {exists} (SELECT 1 FROM r WHERE {condition})"
        return sorted_rows(duck.execute(sql).fetchall()), list(left.column_names)
    merged = {a for a, b in zip(left_on, right_on) if a == b}
    select, names = [], []
    for name in left.column_names:
        if name in merged:
            select.append({"inner": f'l."{name}"', "left": f'l."{name}"',
                           "right": f'r."{name}"',
                           "outer": f'COALESCE(l."{name}", r."{name}")'}[how])
        else:
            select.append(f'l."{name}"')
        names.append(name)
    for name in right.column_names:
        if name in merged:
            continue
        select.append(f'r."{name}"')
        names.append(name + suffix if name in left.column_names else name)
    kind = {"inner": "JOIN", "left": "LEFT JOIN", "right": "RIGHT JOIN",
            "outer": "FULL OUTER JOIN"}[how]
    sql = f"SELECT {', '.join(select)} FROM l {kind} r ON {condition}"
    return sorted_rows(duck.execute(sql).fetchall()), names


def check(duck, left, right, how, on=None, left_on=None, right_on=None, suffix="_right"):
    ds = sl.from_arrow(left).join(sl.from_arrow(right), on=on, how=how, left_on=left_on,
                                  right_on=right_on, suffix=suffix)
    lk = [on] if isinstance(on, str) else on or ([left_on] if isinstance(left_on, str)
                                                 else left_on)
    rk = [on] if isinstance(on, str) else on or ([right_on] if isinstance(right_on, str)
                                                 else right_on)
    expected, names = duckdb_join(duck, left, right, lk, rk, how, suffix)
    assert ds.columns() == names
    assert sluice_rows(ds) == expected
    return ds


@pytest.fixture()
def people():
    """Left: 20k rows over 3k ids with nulls and duplicates, several batches."""
    rng = np.random.default_rng(3)
    n = 20_000
    ids = rng.integers(0, 3_000, n)
    return pa.table({
        "id": pa.array(ids, mask=rng.random(n) < 0.02),
        "name": pa.array([f"p{i}" for i in range(n)]),
        "score": pa.array(rng.normal(size=n)),
        "city": pa.array(rng.choice(["a", "b", "c", None], n)),
    })


@pytest.fixture()
def cities():
    """Right: 5k rows over ids 1k..4k (some match nothing), duplicates, a clashing name."""
    rng = np.random.default_rng(4)
    n = 5_000
    return pa.table({
        "id": pa.array(rng.integers(1_000, 4_000, n), mask=rng.random(n) < 0.02),
        "city": pa.array(rng.choice(["a", "b", "c", "d"], n)),
        "pop": pa.array(rng.integers(0, 1_000_000, n), pa.int32()),
    })


@pytest.mark.parametrize("how", JOIN_TYPES)
def test_every_join_type_matches_duckdb(duck, people, cities, how):
    check(duck, people, cities, how, on="id")


@pytest.mark.parametrize("alias,how", [("left_outer", "left"), ("right_outer", "right"),
                                       ("full_outer", "outer"), ("full", "outer"),
                                       ("left_semi", "semi"), ("left_anti", "anti"),
                                       ("INNER", "inner")])
def test_ray_data_spellings(people, cities, alias, how):
    left, right = sl.from_arrow(people), sl.from_arrow(cities)
    assert sluice_rows(left.join(right, on="id", how=alias)) == \
        sluice_rows(left.join(right, on="id", how=how))


@pytest.mark.parametrize("how", ["right_semi", "right_anti"])
def test_right_semi_and_anti_return_the_right_rows(duck, people, cities, how):
    ds = sl.from_arrow(people).join(sl.from_arrow(cities), on="id", how=how)
    expected, names = duckdb_join(duck, cities, people, ["id"], ["id"], how[len("right_"):])
    assert ds.columns() == names == cities.column_names
    assert sluice_rows(ds) == expected


@pytest.mark.parametrize("how", JOIN_TYPES)
def test_multiple_keys(duck, how):
    rng = np.random.default_rng(5)
    left = pa.table({"a": rng.choice(["x", "y", None], 3000), "b": rng.integers(0, 20, 3000),
                     "v": np.arange(3000)})
    right = pa.table({"b": pa.array(rng.integers(0, 25, 800), mask=rng.random(800) < 0.05),
                      "a": rng.choice(["x", "y", "z"], 800), "w": np.arange(800)})
    check(duck, left, right, how, on=["a", "b"])


@pytest.mark.parametrize("how", JOIN_TYPES)
def test_left_on_right_on_keep_both_keys(duck, people, cities, how):
    renamed = cities.rename_columns(["city_id", "city", "pop"])
    ds = check(duck, people, renamed, how, left_on="id", right_on="city_id")
    if how not in ("semi", "anti"):
        assert ds.columns() == ["id", "name", "score", "city", "city_id", "city_right", "pop"]


def test_left_on_right_on_lists(duck, people, cities):
    renamed = cities.rename_columns(["city_id", "town", "pop"])
    check(duck, people, renamed, "inner", left_on=["id", "city"], right_on=["city_id", "town"])


def test_suffix_for_clashing_names(duck, people, cities):
    ds = check(duck, people, cities, "left", on="id", suffix="_c")
    assert ds.columns() == ["id", "name", "score", "city", "city_c", "pop"]
    # A suffixed name that is still taken is an error naming it.
    left = pa.table({"k": [1], "x": [1], "x_right": [2]})
    right = pa.table({"k": [1], "x": [3]})
    with pytest.raises(ValueError, match="x_right"):
        sl.from_arrow(left).join(sl.from_arrow(right), on="k")


def test_null_keys_never_match():
    left = sl.from_items([{"k": None, "v": 1}, {"k": 1, "v": 2}])
    right = sl.from_items([{"k": None, "w": 3}, {"k": 1, "w": 4}])
    assert left.join(right, on="k").take_all() == [{"k": 1, "v": 2, "w": 4}]
    assert sorted_rows(r.values() for r in left.join(right, on="k", how="outer").take_all()) == \
        sorted_rows([(1, 2, 4), (None, 1, None), (None, None, 3)])
    assert left.join(right, on="k", how="anti").take_all() == [{"k": None, "v": 1}]


@pytest.mark.parametrize("how", JOIN_TYPES)
def test_string_keys(duck, how):
    rng = np.random.default_rng(6)
    words = [f"w{i}" for i in range(100)] + ["", None]
    left = pa.table({"word": rng.choice(words, 4000), "n": np.arange(4000)})
    right = pa.table({"word": rng.choice(words[50:] + ["zz"], 300), "m": np.arange(300)})
    check(duck, left, right, how, on="word")


@pytest.mark.parametrize("how", JOIN_TYPES)
def test_int32_and_int64_keys(duck, how):
    left = pa.table({"k": pa.array([1, 2, 3, None, 2], pa.int32()), "v": list("abcde")})
    right = pa.table({"k": pa.array([2, 3, 4, None], pa.int64()), "w": [10, 20, 30, 40]})
    ds = check(duck, left, right, how, on="k")
    assert ds.schema().field("k").type == pa.int64()


def test_string_view_keys_and_columns():
    """polars hands strings over as views; they join with plain strings."""
    left = pa.table({"k": pa.array(["a", "b", None, "a"], pa.string_view()),
                     "s": pa.array(["w", "x", "y", "z"], pa.string_view())})
    right = pa.table({"k": ["a", "c", None], "n": [1, 2, 3]})
    ds = sl.from_arrow(left).join(sl.from_arrow(right), on="k", how="outer")
    assert ds.schema().field("s").type == pa.string_view()
    assert sluice_rows(ds) == sorted_rows([("a", "w", 1), ("a", "z", 1), ("b", "x", None),
                                           (None, "y", None), ("c", None, 2), (None, None, 3)])


def test_key_type_mismatch_names_the_columns():
    left = sl.from_arrow(pa.table({"k": [1, 2]}))
    right = sl.from_arrow(pa.table({"k": ["1", "2"]}))
    with pytest.raises(TypeError, match=r"'k' has type int64.*'k' has type string"):
        left.join(right, on="k")


@pytest.mark.parametrize("how", JOIN_TYPES)
def test_empty_sides(duck, people, cities, how):
    check(duck, people.slice(0, 0), cities, how, on="id")
    check(duck, people, cities.slice(0, 0), how, on="id")


def test_join_then_groupby(duck, people, cities):
    ds = sl.from_arrow(people).join(sl.from_arrow(cities), on="id") \
        .groupby("city_right").aggregate(sl.aggregate.Count(), sl.aggregate.Sum("pop"))
    duck.register("l", people)
    duck.register("r", cities)
    expected = duck.execute(
        'SELECT r.city, count(*), sum(r.pop) FROM l JOIN r ON l.id = r.id '
        'GROUP BY r.city ORDER BY r.city').fetchall()
    assert [tuple(row.values()) for row in ds.take_all()] == expected


def test_join_then_filter_is_pushed_below(duck, people, cities):
    ds = sl.from_arrow(people).join(sl.from_arrow(cities), on="id", how="left") \
        .filter((sl.col("score") > 0.5) & (sl.col("id") < 2000))
    plan = ds.explain_string().split("== Optimized plan ==")[1]
    assert plan.lstrip().startswith("Join(left, on=[id])"), plan
    assert plan.count("Filter") == 2, plan  # the id term on both sides, score on the left
    expected, _ = duckdb_join(duck, people, cities, ["id"], ["id"], "left")
    expected = [row for row in expected
                if row[2] is not None and row[2] > 0.5 and row[0] is not None and row[0] < 2000]
    assert sluice_rows(ds) == sorted_rows(expected)
    # A filter on the right side of a left join must stay above it.
    above = sl.from_arrow(people).join(sl.from_arrow(cities), on="id", how="left") \
        .filter(sl.col("pop").is_null())
    plan = above.explain_string().split("== Optimized plan ==")[1]
    assert plan.lstrip().startswith("Filter"), plan
    assert above.count() == sum(1 for row in sluice_rows(
        sl.from_arrow(people).join(sl.from_arrow(cities), on="id", how="left")) if row[5] is None)


def test_explain_and_stats_show_the_join(people, cities):
    ds = sl.from_arrow(people).join(sl.from_arrow(cities), on="id", how="semi")
    assert "Join(semi, on=[id])" in ds.explain_string()
    renamed = sl.from_arrow(cities).rename_columns({"id": "cid"})
    assert "Join(inner, left_on=[id], right_on=[cid])" in \
        sl.from_arrow(people).join(renamed, left_on="id", right_on="cid").explain_string()
    rows = ds.count()
    ds.to_arrow()
    join = [op for op in ds.stats_dict()["operators"] if op["name"] == "Join(semi, on=[id])"]
    assert join and join[0]["rows_in"] == people.num_rows + cities.num_rows
    assert join[0]["rows_out"] == rows


def test_parquet_sides_read_only_the_columns_needed(tmp_path, duck, people, cities):
    pq.write_table(people, tmp_path / "people.parquet", row_group_size=4000)
    pq.write_table(cities, tmp_path / "cities.parquet")
    left = sl.read_parquet(str(tmp_path / "people.parquet"))
    right = sl.read_parquet(str(tmp_path / "cities.parquet"))
    ds = left.join(right, on="id").select_columns(["name", "pop"])
    plan = ds.explain_string().split("== Optimized plan ==")[1]
    assert "columns=[id, name]" in plan and "columns=[id, pop]" in plan, plan
    duck.register("l", people)
    duck.register("r", cities)
    expected = duck.execute("SELECT l.name, r.pop FROM l JOIN r ON l.id = r.id").fetchall()
    assert sluice_rows(ds) == sorted_rows(expected)


def test_join_after_map_batches_and_self_join(people):
    doubled = sl.from_arrow(people).map_batches(
        lambda t: t.set_column(2, "score", pc.multiply(t["score"], 2)), batch_format="pyarrow")
    small = sl.from_arrow(people.slice(0, 100)).select_columns(["id", "name"])
    joined = doubled.join(small, on="id", how="semi")
    ids = {i for i in people.column("id").slice(0, 100).to_pylist() if i is not None}
    expected = sum(1 for i in people.column("id").to_pylist() if i in ids)
    assert joined.count() == expected
    self_joined = small.join(small, on="id")
    assert self_joined.columns() == ["id", "name", "name_right"]
    counts = {}
    for i in people.column("id").slice(0, 100).to_pylist():
        if i is not None:
            counts[i] = counts.get(i, 0) + 1
    assert self_joined.count() == sum(c * c for c in counts.values())


def test_list_columns_pass_through():
    left = pa.table({"k": [1, 2, 3], "tags": [["a"], [], None]})
    right = pa.table({"k": [1, 1, 3], "vec": [[0.5, 1.0], [2.0], None]})
    ds = sl.from_arrow(left).join(sl.from_arrow(right), on="k", how="left")
    assert sorted(ds.take_all(), key=repr) == sorted([
        {"k": 1, "tags": ["a"], "vec": [0.5, 1.0]}, {"k": 1, "tags": ["a"], "vec": [2.0]},
        {"k": 2, "tags": [], "vec": None}, {"k": 3, "tags": None, "vec": None}], key=repr)


def test_a_user_functions_error_keeps_its_type(people, cities):
    class Boom(Exception):
        pass

    def explode(batch):
        raise Boom("no")

    left = sl.from_arrow(people)
    right = sl.from_arrow(cities).map_batches(explode)
    with pytest.raises(Boom):
        left.join(right, on="id").to_arrow()
    with pytest.raises(Boom):
        right.join(left, on="id").to_arrow()


def test_bad_arguments():
    left = sl.from_items([{"k": 1, "v": 2}])
    right = sl.from_items([{"k": 1, "w": 3}])
    with pytest.raises(ValueError, match="unknown join type 'cross'"):
        left.join(right, on="k", how="cross")
    with pytest.raises(KeyError, match="nope"):
        left.join(right, on="nope")
    with pytest.raises(KeyError, match="right input has no column named 'v'"):
        left.join(right, on="v")
    with pytest.raises(ValueError, match="not both"):
        left.join(right, on="k", left_on="k", right_on="k")
    with pytest.raises(ValueError, match="both left_on= and right_on="):
        left.join(right, left_on="k")
    with pytest.raises(ValueError, match="needs key columns"):
        left.join(right)
    with pytest.raises(ValueError, match="2 left_on key"):
        left.join(right, left_on=["k", "v"], right_on=["k"])
    with pytest.raises(ValueError, match="names no columns"):
        left.join(right, on=[])
    with pytest.raises(TypeError, match="takes a Dataset"):
        left.join(pa.table({"k": [1]}), on="k")
    with pytest.raises(TypeError):
        left.join(right, on=1)
