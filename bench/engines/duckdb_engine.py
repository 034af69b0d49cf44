"""DuckDB: one SQL statement per workload, COPY ... TO for outputs."""

import duckdb

from . import WORD


def _connect():
    return duckdb.connect()


def _run(sql):
    con = _connect()
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _parquet(data):
    return f"read_parquet('{data}/parquet/*/*.parquet', hive_partitioning=true)"


def w1(data, out):
    (out / "w1").mkdir(parents=True)
    _run(f"""COPY (SELECT *, helpful_votes / total_votes AS helpful_votes_ratio FROM {_parquet(data)}
                 WHERE total_votes < 100 AND total_votes > 0 AND marketplace = 'US'
                 ORDER BY total_votes)
             TO '{out}/w1/data.parquet' (FORMAT parquet)""")


def w2(data, out):
    (out / "w2").mkdir(parents=True)
    _run(f"""COPY (SELECT * FROM read_csv('{data}/tsv/*.tsv.gz', delim='\t', header=true,
                                         quote='', escape=''))
             TO '{out}/w2/data.json' (FORMAT json)""")


def w3(data, out):
    con = _connect()
    try:
        return con.execute(f"""
            SELECT parse_filename(filename) AS file, count(*) AS lines
            FROM read_csv('{data}/text/*.txt', columns={{'line': 'VARCHAR'}}, header=false,
                          delim='\x1f', quote='', escape='', filename=true, auto_detect=false)
            WHERE contains(line, '{WORD}')
            GROUP BY ALL ORDER BY file""").to_arrow_table()
    finally:
        con.close()


def w4(data, out):
    con = _connect()
    try:
        return con.execute(f"""
            SELECT product_category, star_rating, count(*) AS "count()",
                   avg(star_rating) AS "mean(star_rating)",
                   sum(helpful_votes) AS "sum(helpful_votes)",
                   avg(CASE WHEN total_votes > 0 THEN helpful_votes / total_votes END) AS "mean(ratio)"
            FROM {_parquet(data)} GROUP BY ALL ORDER BY ALL""").to_arrow_table()
    finally:
        con.close()


def w5(data, out):
    _run(f"""COPY (SELECT *, year(review_date) AS year FROM {_parquet(data)})
             TO '{out}/w5' (FORMAT parquet, PARTITION_BY (marketplace, year))""")


def w6(data, out):
    (out / "w6").mkdir(parents=True)
    _run(f"""COPY (SELECT * FROM {_parquet(data)} ORDER BY product_id, review_date)
             TO '{out}/w6/data.parquet' (FORMAT parquet)""")
