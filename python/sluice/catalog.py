"""The table catalog (``sl.catalog``): databases and tables with their location, format,
schema, partition columns, partitions (values, location, rows, size), parameters and
history, in a SQLite file (``sl.configure(catalog=...)``, SLUICE_CATALOG, default
~/.sluice/catalog.db).

Table names are ``"database.table"``; a bare name is in database ``default``.
``ds.write_parquet(path, table="db.t")`` creates and updates tables as it commits;
``sl.read_table("db.t", filter=...)`` reads them, pruning partitions from the catalog.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import pyarrow as pa

from . import _field_names, _sluice
from .expressions import Expr

FilterArg = Union[Expr, str, None]


def _open() -> Any:
    """The catalog of the session in effect (``with sl.Session(catalog=...)``)."""
    from .config import current_config
    return _sluice.Catalog.open(current_config()["catalog_path"])


def _filter(value: FilterArg) -> Any:
    """Filter text (SQL-style "year = 2015 AND marketplace IN ('US','UK')" or Python-style,
    as every call that takes a filter) or an expression."""
    if value is None:
        return None
    if isinstance(value, str):
        from ._expr_parser import parse_filter
        return parse_filter(value)._expr
    if isinstance(value, Expr):
        return value._expr
    raise TypeError("filter must be a string such as 'year = 2015' or an expression such as "
                    "sl.col('year') == 2015")


def _with_schema(table: Dict[str, Any]) -> Dict[str, Any]:
    if table.get("schema") is not None:
        table["schema"] = _field_names.restore_schema(pa.schema(_SchemaCapsule(table["schema"])))
    return table


class _SchemaCapsule:
    """Hands a schema capsule from the engine to pyarrow."""

    def __init__(self, capsule: Any) -> None:
        self._capsule = capsule

    def __arrow_c_schema__(self) -> Any:
        return self._capsule


def path() -> str:
    """The catalog file in use."""
    return _open().path


def create_database(name: str, *, description: str = "",
                    location: Union[str, os.PathLike, None] = None,
                    if_not_exists: bool = False) -> None:
    """A database; tables written to it without a path go to ``location/<table>``."""
    _open().create_database(name, description,
                            os.fspath(location) if location is not None else "", if_not_exists)


def list_databases() -> List[Dict[str, Any]]:
    return list(_open().list_databases())


def drop_database(name: str, *, cascade: bool = False, if_exists: bool = False) -> None:
    """Refuses a database with tables unless ``cascade``; data is never deleted."""
    _open().drop_database(name, cascade, if_exists)


def create_table(name: str, location: Union[str, os.PathLike], *, schema: Optional[pa.Schema] = None,
                 format: str = "parquet", partition_cols: Optional[Sequence[str]] = None,
                 parameters: Optional[Mapping[str, str]] = None,
                 if_not_exists: bool = False) -> None:
    """Registers a table (usually done by the first ``write_parquet(..., table=...)``)."""
    _open().create_table(name, os.fspath(location), format, schema, list(partition_cols or []),
                         dict(parameters or {}), if_not_exists)


def list_tables(database: str = "default") -> List[Dict[str, Any]]:
    return [_with_schema(t) for t in _open().list_tables(database)]


def describe_table(name: str) -> Dict[str, Any]:
    """Location, format, schema (pyarrow), partition columns, parameters, version and
    totals (rows, bytes, files, partitions)."""
    return _with_schema(_open().describe_table(name))


def drop_table(name: str, *, if_exists: bool = False) -> None:
    """Removes the registration; the files stay."""
    _open().drop_table(name, if_exists)


def set_table_parameters(name: str, parameters: Mapping[str, Optional[str]]) -> None:
    """Sets parameters; a value of None or "" removes the key."""
    _open().set_table_parameters(name, {k: (v or "") for k, v in parameters.items()})


def list_partitions(name: str, filter: FilterArg = None) -> List[Dict[str, Any]]:
    """Partitions (``spec``, ``values``, ``location``, ``rows``, ``bytes``, ``files``,
    ``version``), optionally only those a filter on partition columns can match, e.g.
    ``"year = 2015 AND marketplace IN ('US','UK')"``. Answered from the catalog alone."""
    return list(_open().list_partitions(name, _filter(filter)))


def history(name: str) -> List[Dict[str, Any]]:
    """Versions, newest first: operation, time, rows and files added, partitions."""
    return list(_open().history(name))


def crawl(path: Union[str, os.PathLike], table: str, *, format: Optional[str] = None,
          follow_symlinks: bool = False) -> Dict[str, Any]:
    """Registers existing data at ``path`` as ``table`` (schema and Hive partitions
    inferred), or adds the partitions the table does not have yet. Symbolic links inside
    ``path`` are followed (loops once); one leading out of it is an error unless
    ``follow_symlinks=True``."""
    return dict(_open().crawl(os.fspath(path), table, format or "", follow_symlinks))
