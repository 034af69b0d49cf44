"""Sluice: a data-integration engine in C++ on Apache Arrow, with a Ray Data-style API.

    import sluice as sl
    ds = sl.read_parquet("reviews/")
    ds = ds.filter(sl.col("total_votes") > 0).add_column("ratio", sl.col("helpful_votes") / sl.col("total_votes"))
    ds.write_parquet("out/")
"""

import pyarrow as _pyarrow  # noqa: F401  (loads libarrow before the extension)

from . import errors
from ._udf import ActorPoolStrategy
from .aggregate import Count, CountDistinct, First, Last, Max, Mean, Min, Std, Sum, Var
from .config import configure, current_config
from .dataset import Dataset, GroupedData, from_arrow, from_items, from_numpy, from_pandas, range
from .errors import SluiceError
from .expressions import Expr, col, lit, when
from . import catalog
from .io import read_csv, read_json, read_parquet, read_table, read_text, vacuum
from .job import job_args
from .session import Session, current_session

from importlib.metadata import PackageNotFoundError as _NotInstalled
from importlib.metadata import version as _version

try:
    __version__ = _version("sluice")
except _NotInstalled:  # imported from a source tree without installing
    __version__ = "0+unknown"

__all__ = [
    "ActorPoolStrategy", "Count", "CountDistinct", "Dataset", "Expr", "First", "GroupedData",
    "Last", "Max", "Mean", "Min", "SluiceError", "Std", "Sum", "Var", "col", "configure",
    "current_config", "errors", "from_arrow", "from_items", "from_numpy", "from_pandas",
    "job_args", "lit", "range", "when", "read_csv", "read_json", "read_parquet", "read_table",
    "read_text", "vacuum", "catalog", "Session", "current_session",
]

import atexit as _atexit

from . import _sluice
from . import config as _config

_config._configure_from_environment()
_atexit.register(_sluice.release_process_resources)
