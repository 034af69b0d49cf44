"""Engine-independent checks of a workload's output: a row count and a checksum.

Outputs are read back with pyarrow whatever engine wrote them, so two engines agree only
if they produced the same rows. Sorted outputs are also checked for order when their
files are read in name order.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.json as pjson
import pyarrow.parquet as pq


def _visible_files(directory: Path, suffixes: tuple) -> list[Path]:
    files = []
    for path in sorted(directory.rglob("*")):
        parts = path.relative_to(directory).parts
        if any(p.startswith(("_", ".")) for p in parts) or not path.is_file():
            continue
        if path.name.endswith(suffixes):
            files.append(path)
    return files


def _digest(values) -> str:
    h = hashlib.sha1()
    for v in values:
        h.update(repr(v).encode())
        h.update(b"\x00")
    return h.hexdigest()[:16]


def _parquet_in_name_order(directory: Path, columns=None) -> pa.Table:
    files = _visible_files(directory, (".parquet",))
    if not files:
        raise AssertionError(f"no Parquet files under {directory}")
    return pa.concat_tables([pq.read_table(f, columns=columns) for f in files],
                            promote_options="permissive")


def _is_sorted(table: pa.Table, keys) -> bool:
    if table.num_rows < 2:
        return True
    indices = pc.sort_indices(table, sort_keys=[(k, "ascending") for k in keys])
    sorted_keys = table.select(keys).take(indices)
    return sorted_keys.equals(table.select(keys))


def check(workload: str, out: Path) -> dict:
    """Returns {"rows": n, "checksum": str, "note": str}."""
    if workload == "W1":
        t = _parquet_in_name_order(out / "w1", ["review_id", "total_votes", "helpful_votes_ratio"])
        ids = sorted(t["review_id"].to_pylist())
        ratio = pc.sum(t["helpful_votes_ratio"]).as_py() or 0.0
        note = "" if _is_sorted(t, ["total_votes"]) else "not sorted in file-name order"
        return {"rows": t.num_rows, "checksum": _digest([_digest(ids), pc.sum(t["total_votes"]).as_py(),
                                                          round(ratio, 3)]), "note": note}
    if workload == "W2":
        files = _visible_files(out / "w2", (".json", ".jsonl", ".ndjson"))
        if not files:
            raise AssertionError(f"no JSON files under {out / 'w2'}")
        tables = [pjson.read_json(f).select(["review_id", "total_votes"]) for f in files
                  if f.stat().st_size]
        t = pa.concat_tables(tables, promote_options="permissive")
        ids = sorted(t["review_id"].to_pylist())
        return {"rows": t.num_rows, "checksum": _digest([_digest(ids), pc.sum(t["total_votes"]).as_py()]),
                "note": ""}
    if workload == "W3":
        t = pq.read_table(out / "result.parquet")
        pairs = sorted(zip(t["file"].to_pylist(), [int(x) for x in t["lines"].to_pylist()]))
        return {"rows": len(pairs), "checksum": _digest(pairs), "note": ""}
    if workload == "W4":
        t = pq.read_table(out / "result.parquet")
        rows = []
        for r in t.to_pylist():
            def rounded(x):
                return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(x, 6)
            rows.append((r["product_category"], int(r["star_rating"]), int(r["count()"]),
                         rounded(r["mean(star_rating)"]), int(r["sum(helpful_votes)"]),
                         rounded(r["mean(ratio)"])))
        return {"rows": len(rows), "checksum": _digest(sorted(rows)), "note": ""}
    if workload == "W5":
        counts = {}
        for f in _visible_files(out / "w5", (".parquet",)):
            parts = dict(p.split("=", 1) for p in f.relative_to(out / "w5").parts[:-1] if "=" in p)
            key = (parts.get("marketplace"), str(parts.get("year")))
            counts[key] = counts.get(key, 0) + pq.read_metadata(f).num_rows
        return {"rows": sum(counts.values()), "checksum": _digest(sorted(counts.items())), "note": ""}
    if workload == "W6":
        t = _parquet_in_name_order(out / "w6", ["product_id", "review_date"])
        note = "" if _is_sorted(t, ["product_id", "review_date"]) else "not sorted in file-name order"
        keys = sorted(zip(t["product_id"].to_pylist(), [str(d) for d in t["review_date"].to_pylist()]))
        return {"rows": t.num_rows, "checksum": _digest(keys), "note": note}
    raise ValueError(f"unknown workload {workload}")
