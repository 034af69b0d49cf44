#!/usr/bin/env python3
"""Runs the libFuzzer targets built in BUILD_DIR (docs/fuzzing.md).

For each target: first every committed reproducer in cpp/fuzz/regressions/<target>/ is run
once (a crash there is a regression), then the target fuzzes for SECONDS on its corpus,
BUILD_DIR/corpus/<target> (seeded by make_corpus.py; libFuzzer adds what it finds), which
it first runs in full. Crashes, sanitizer reports, leaks, timeouts (-timeout) and inputs
that exceed the memory limit (-rss_limit_mb) fail the run; the reproducer is kept in
BUILD_DIR/artifacts/<target>/. Prints one line per target with libFuzzer's final
statistics and exits non-zero when any target failed.

usage: run_fuzzers.py BUILD_DIR SECONDS [--targets a,b] [--parallel N]
"""

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGETS = ["parquet", "csv", "json_lines", "text", "gzip", "predicate", "manifest",
           "catalog_json"]
# Largest input libFuzzer makes per target: big enough for the seeds and for several of a
# reader's internal reads, small enough to keep executions fast.
MAX_LEN = {"parquet": 32768, "csv": 16384, "json_lines": 16384, "text": 16384, "gzip": 16384,
           "predicate": 4096, "manifest": 8192, "catalog_json": 4096}
# An input slower than this is a hang; one that needs more memory is a finding too.
TIMEOUT_SECONDS = 20
RSS_LIMIT_MB = 2560
SANITIZER_ENV = {
    # Arrow (from the pyarrow wheel) is not instrumented: its container accesses cannot be
    # checked. Leaks are checked (libFuzzer runs LeakSanitizer after an input whose
    # mallocs outnumber its frees); Arrow's lazily made singletons stay reachable.
    "ASAN_OPTIONS": "detect_container_overflow=0:detect_leaks=1:allocator_may_return_null=1",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}


def final_stats(log: str) -> dict:
    return {key: int(value) for key, value in re.findall(r"stat::(\w+):\s+(\d+)", log)}


def run_target(build_dir: Path, target: str, seconds: int) -> dict:
    binary = build_dir / "cpp" / "fuzz" / f"{target}_fuzzer"
    corpus = build_dir / "corpus" / target
    artifacts = build_dir / "artifacts" / target
    logs = build_dir / "logs"
    for directory in (corpus, artifacts, logs):
        directory.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, **SANITIZER_ENV)
    flags = [f"-max_len={MAX_LEN[target]}", f"-timeout={TIMEOUT_SECONDS}",
             f"-rss_limit_mb={RSS_LIMIT_MB}", f"-artifact_prefix={artifacts}/"]
    dictionary = HERE / "dicts" / f"{target}.dict"
    if dictionary.exists():
        flags.append(f"-dict={dictionary}")
    result = {"target": target, "failed": None}
    start = time.monotonic()

    regressions = sorted(p for p in (HERE / "regressions" / target).glob("*") if p.is_file())
    if regressions:
        replay = subprocess.run([str(binary), *flags, *map(str, regressions)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                errors="replace")
        (logs / f"{target}.regressions.log").write_text(replay.stdout)
        if replay.returncode != 0:
            result["failed"] = f"a regression input fails again: see {logs}/{target}.regressions.log"
            result["log_tail"] = replay.stdout[-3000:]
            return result
    result["regressions"] = len(regressions)

    fuzz = subprocess.run([str(binary), *flags, f"-max_total_time={seconds}",
                           "-print_final_stats=1", str(corpus)], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace")
    (logs / f"{target}.log").write_text(fuzz.stdout)
    result.update(final_stats(fuzz.stdout))
    result["seconds"] = round(time.monotonic() - start, 1)
    result["corpus"] = sum(1 for _ in corpus.iterdir())
    if fuzz.returncode != 0:
        crash = re.findall(r"Test unit written to (\S+)", fuzz.stdout)
        result["failed"] = f"exit code {fuzz.returncode}" + (f", reproducer {crash[-1]}" if crash else "")
        result["log_tail"] = fuzz.stdout[-3000:]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("build_dir", type=Path)
    parser.add_argument("seconds", type=int)
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--parallel", type=int, default=1)
    args = parser.parse_args()
    targets = [t for t in args.targets.replace(" ", ",").split(",") if t]
    unknown = sorted(set(targets) - set(TARGETS))
    if unknown:
        parser.error(f"unknown targets {unknown}; the targets are {', '.join(TARGETS)}")

    with concurrent.futures.ThreadPoolExecutor(max(1, args.parallel)) as pool:
        results = list(pool.map(lambda t: run_target(args.build_dir, t, args.seconds), targets))
    for r in results:
        if "log_tail" in r:
            print(f"---- {r['target']} ----\n{r['log_tail']}")
    for r in results:
        status = f"FAILED ({r['failed']})" if r["failed"] else "ok"
        print(f"fuzz {r['target']:<13} {status}: {r.get('number_of_executed_units', 0)} executions, "
              f"{r.get('average_exec_per_sec', 0)}/s, peak RSS {r.get('peak_rss_mb', 0)} MB, "
              f"corpus {r.get('corpus', 0)}, {r.get('regressions', 0)} regression inputs, "
              f"{r.get('seconds', 0)} s")
    (args.build_dir / "results.json").write_text(json.dumps(results, indent=1))
    return 1 if any(r["failed"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
