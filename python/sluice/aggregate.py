"""Aggregations for ``groupby(...).aggregate(...)``, named as in ``ray.data.aggregate``."""

from __future__ import annotations

from typing import Optional, Tuple


class AggregateFn:
    """One aggregation over a column; output named like Ray Data (``sum(x)``)."""

    _function = ""

    def __init__(self, on: Optional[str] = None, alias_name: Optional[str] = None):
        self.on = on
        self.alias_name = alias_name

    def _spec(self) -> Tuple[str, str, str]:
        if self._function != "count" and not self.on:
            raise ValueError(f"{type(self).__name__} needs a column (on=...)")
        return (self._function, self.on or "", self.alias_name or "")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.on!r})"


class Count(AggregateFn):
    """Rows per group (``count()``), or non-null values of ``on``."""
    _function = "count"


class Sum(AggregateFn):
    _function = "sum"


class Mean(AggregateFn):
    _function = "mean"


class Min(AggregateFn):
    _function = "min"


class Max(AggregateFn):
    _function = "max"


class Std(AggregateFn):
    """Sample standard deviation (ddof=1)."""
    _function = "std"


class Var(AggregateFn):
    """Sample variance (ddof=1)."""
    _function = "var"


class CountDistinct(AggregateFn):
    _function = "count_distinct"


class First(AggregateFn):
    _function = "first"


class Last(AggregateFn):
    _function = "last"
