#!/usr/bin/env python3
"""Benchmark harness: the same ETL workloads on Sluice and its peers.

    python bench/run.py --scale 1000000 --repeat 3
    python bench/run.py --scale 20000 --repeat 0 --check      # make bench-smoke

Each run is a process of its own. Per (workload, engine) there is one warm-up run, whose
output is verified (row count + checksum, engine-independent), then --repeat timed runs
(with --repeat 0 the verified run is the only one and its time is reported);
engines are interleaved run by run so drift on the machine hits all alike. Reported: the
median time, the peak resident memory of the run's whole process tree (Ray's and Spark's
workers included), and each engine's time as a ratio to Sluice's. Each workload's input
is read once before its first run, so every engine finds it in the page cache.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from engines import ENGINES, WORKLOADS  # noqa: E402
from verify import check  # noqa: E402


class TreeMemorySampler:
    """Samples the summed RSS of a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.05):
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
        out, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(children.get(pid, []))
        return out

    def _rss(self, pid: int) -> int:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, sum(self._rss(p) for p in self._tree()))
            self._stop.wait(self.interval)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def failure_reason(stderr: str, returncode: int) -> str:
    """The most telling line of a failed run: the last exception line, else the last line."""
    lines = [l.strip() for l in stderr.splitlines() if l.strip()]
    exceptions = [l for l in lines if re.match(r"^[\w.]*(Error|Exception)\b.*:", l)]
    reason = (exceptions or lines or [f"exit code {returncode}"])[-1]
    return reason[:300].replace("|", "/")


def run_once(engine: str, workload: str, data: Path, out: Path, timeout: float) -> dict:
    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, str(HERE / "run_one.py"), "--engine", engine, "--workload", workload,
           "--data", str(data), "--out", str(out)]
    env = dict(os.environ, SLUICE_PROGRESS="0", PYTHONWARNINGS="ignore")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    sampler = TreeMemorySampler(proc.pid)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.communicate()
        sampler.stop()
        return {"error": f"timed out after {timeout:.0f} s"}
    finally:
        # Ray and Spark leave daemons in the session; end them with the run.
        try:
            os.killpg(proc.pid, 9)
        except ProcessLookupError:
            pass
    peak = sampler.stop()
    if proc.returncode != 0:
        return {"error": failure_reason(stderr, proc.returncode)}
    report = json.loads(stdout.strip().splitlines()[-1])
    report["peak_rss"] = peak
    return report


# The input folder each workload reads (bench/engines/__init__.py).
WORKLOAD_INPUT = {"W1": "parquet", "W2": "tsv", "W3": "text", "W4": "parquet", "W5": "parquet",
                  "W6": "parquet"}


def warm_page_cache(folder: Path) -> None:
    """Reads every file of a workload's input once, so that the first engine to run it does
    not pay for reading from disk what the engines after it find in the page cache."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with open(path, "rb") as f:
                while f.read(16 << 20):
                    pass


def ensure_data(data: Path, scale: int) -> None:
    marker = data / f".complete-{scale}"
    if marker.exists():
        return
    subprocess.run([sys.executable, str(HERE / "gen_reviews.py"), "--rows", str(scale), "--out", str(data)],
                   check=True)
    marker.touch()


def versions(engines: list[str]) -> dict:
    out = {"python": platform.python_version()}
    for module in ["sluice", "duckdb", "polars", "pandas", "pyarrow", "ray", "daft", "pyspark"]:
        try:
            out[module] = __import__(module).__version__
        except Exception:  # noqa: BLE001 - an engine that is not installed
            out[module] = "not installed"
    try:
        java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
        out["java"] = java
    except (OSError, IndexError):
        out["java"] = "not found"
    return out


def markdown(results: dict, engines: list[str], workloads: list[str]) -> str:
    lines = ["| workload | " + " | ".join(engines) + " |", "|---" * (len(engines) + 1) + "|"]
    for w in workloads:
        base = results.get(w, {}).get("sluice", {}).get("median")
        cells = []
        for e in engines:
            r = results.get(w, {}).get(e, {})
            if "median" in r:
                ratio = f" ({r['median'] / base:.2f}x)" if base and e != "sluice" else ""
                mem = f"<br>{r['peak_rss'] / 2**20:,.0f} MB" if r.get("peak_rss") else ""
                flag = "" if r.get("agrees", True) else " **differs**"
                cells.append(f"{r['median']:.2f} s{ratio}{mem}{flag}")
            else:
                cells.append(r.get("error", "-"))
        lines.append(f"| {w} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def fastest_peer_table(results: dict, workloads: list[str]) -> str:
    """Sluice's median over the fastest peer's, per workload (below 1.00: Sluice is faster)."""
    lines = ["| workload | Sluice | fastest peer | Sluice / fastest peer |", "|---|---|---|---|"]
    for w in workloads:
        sluice = results.get(w, {}).get("sluice", {}).get("median")
        peers = {e: r["median"] for e, r in results.get(w, {}).items()
                 if not e.startswith("sluice") and "median" in r}
        if not sluice or not peers:
            lines.append(f"| {w} | {results.get(w, {}).get('sluice', {}).get('error', '-')} | - | - |")
            continue
        best = min(peers, key=peers.get)
        lines.append(f"| {w} | {sluice:.2f} s | {best} {peers[best]:.2f} s | {sluice / peers[best]:.2f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1_000_000, help="rows of generated data")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None, help="default: bench/data/<scale>")
    parser.add_argument("--work", type=Path, default=HERE / "work")
    parser.add_argument("--results", type=Path, default=None, help="default: bench/results/<scale>.json")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if an engine fails or outputs disagree (bench-smoke)")
    args = parser.parse_args()
    engines = [e for e in args.engines.split(",") if e]
    workloads = [w for w in args.workloads.split(",") if w]
    for e in engines:
        if e not in ENGINES:
            parser.error(f"unknown engine {e}; choose from {', '.join(ENGINES)}")
    for w in workloads:
        if w not in WORKLOADS:
            parser.error(f"unknown workload {w}; choose from {', '.join(WORKLOADS)}")
    data = args.data or HERE / "data" / str(args.scale)
    ensure_data(data, args.scale)
    results: dict = {}
    problems = []
    for w in workloads:
        results[w] = {}
        runnable = [e for e in engines if not (e == "sluice-udf" and w != "W1")]
        for e in engines:
            if e not in runnable:
                results[w][e] = {"error": "n/a (the UDF variant is W1 only)"}
        reference = None
        warm_page_cache(data / WORKLOAD_INPUT[w])
        for e in runnable:  # warm-up, also the verified run
            out = args.work / f"{w}-{e}"
            r = run_once(e, w, data, out, args.timeout)
            if "error" in r:
                results[w][e] = {"error": r["error"]}
                problems.append(f"{w} {e}: {r['error']}")
                print(f"{w:3} {e:10} failed: {r['error']}", flush=True)
                continue
            try:
                verdict = check(w, out)
            except Exception as exc:  # noqa: BLE001 - report and carry on
                verdict = {"rows": -1, "checksum": f"unreadable: {exc}", "note": ""}
            shutil.rmtree(out, ignore_errors=True)
            if reference is None:
                reference = verdict
            agrees = (verdict["rows"], verdict["checksum"]) == (reference["rows"], reference["checksum"])
            if not agrees:
                problems.append(f"{w} {e}: {verdict} differs from {reference}")
            results[w][e] = {"times": [], "rss": [], "rows": verdict["rows"], "agrees": agrees,
                             "note": verdict["note"], "warmup": r["seconds"], "warmup_rss": r["peak_rss"]}
            print(f"{w:3} {e:10} warm-up {r['seconds']:8.2f} s  rows {verdict['rows']:>10,}"
                  f"  {'ok' if agrees else 'DIFFERS'} {verdict['note']}", flush=True)
        for i in range(args.repeat):
            for e in runnable:
                entry = results[w][e]
                if "times" not in entry:
                    continue
                r = run_once(e, w, data, args.work / f"{w}-{e}", args.timeout)
                shutil.rmtree(args.work / f"{w}-{e}", ignore_errors=True)
                if "error" in r:
                    entry["error"] = r["error"]
                    continue
                entry["times"].append(r["seconds"])
                entry["rss"].append(r["peak_rss"])
                print(f"{w:3} {e:10} run {i + 1}   {r['seconds']:8.2f} s  {r['peak_rss'] / 2**20:8,.0f} MB",
                      flush=True)
        for e in runnable:
            entry = results[w][e]
            if entry.get("times"):
                entry["median"] = statistics.median(entry["times"])
                entry["peak_rss"] = max(entry["rss"])
            elif args.repeat == 0 and "warmup" in entry:  # bench-smoke: the verified run only
                entry["median"] = entry["warmup"]
                entry["peak_rss"] = entry["warmup_rss"]
    table = markdown(results, engines, workloads) + "\n\n" + fastest_peer_table(results, workloads)
    print("\n" + table)
    report = {"scale": args.scale, "repeat": args.repeat, "command": " ".join(sys.argv),
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
              "versions": versions(engines), "results": results, "table": table,
              "when": time.strftime("%Y-%m-%d %H:%M:%S")}
    results_path = args.results or HERE / "results" / f"{args.scale}.json"
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(report, indent=2))
    print(f"\nresults: {results_path}")
    if problems:
        print("\nproblems:\n  " + "\n  ".join(problems))
        return 1 if args.check else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
