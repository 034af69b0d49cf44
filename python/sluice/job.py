"""Arguments of a job started with ``sluice run job.py --key value ...``."""

from __future__ import annotations

import json
import os
import sys
from typing import Dict, List, Optional


def _parse(argv: List[str]) -> Dict[str, str]:
    args: Dict[str, str] = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        if not token.startswith("--") or token == "--":
            raise ValueError(f"job arguments must look like --key value, got {token!r}")
        key = token[2:]
        if "=" in key:
            key, value = key.split("=", 1)
        elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            i += 1
            value = argv[i]
        else:
            value = "true"
        args[key.replace("-", "_")] = value
        i += 1
    return args


def job_args(argv: Optional[List[str]] = None) -> Dict[str, str]:
    """The ``--key value`` pairs given after the job file (``--flag`` alone is "true").
    Keys use underscores: ``--output-dir x`` gives ``{"output_dir": "x"}``."""
    if argv is not None:
        return _parse(argv)
    encoded = os.environ.get("SLUICE_JOB_ARGS")
    if encoded:
        return _parse(json.loads(encoded))
    return _parse(sys.argv[1:])
