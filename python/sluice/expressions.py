"""Native expressions: ``sl.col("x")``, ``sl.lit(3)`` and operators over them.

Expressions build an Arrow compute expression in C++; nothing is evaluated in Python.
They run on all cores with the GIL released, and filters over Parquet are pushed into
the reader (row-group statistics and hive partition pruning).
"""

from __future__ import annotations

from typing import Any, Iterable

import pyarrow as pa

from . import _sluice


def _to_expr(value: Any) -> "Expr":
    if isinstance(value, Expr):
        return value
    return lit(value)


class Expr:
    """A column expression. Combine with ``+ - * / // % == != < <= > >= & | ~``.

    ``&`` and ``|`` chains may have any number of terms (``functools.reduce(operator.or_,
    terms)`` over 100,000 terms works); other nesting is limited to
    ``sluice.expressions.MAX_EXPRESSION_DEPTH`` levels, beyond which building the expression
    raises :class:`sluice.errors.SluiceValueError`.
    """

    # An expression is native (``_native``) or a pending chain of ``&`` or ``|``
    # (``_chain``: the operator and the two operands) that becomes native when first used.
    # Pending chains let a long chain be built one operator at a time and still be handed
    # to the engine in one piece, shallow (see _materialize): built natively, a left-deep
    # chain of 100,000 calls is too deep to bind, evaluate or even free.
    __slots__ = ("_native", "_chain")

    def __init__(self, native: "_sluice.Expr"):
        self._native = native
        self._chain: "tuple[str, Expr, Expr] | None" = None

    @property
    def _expr(self) -> "_sluice.Expr":
        if self._native is None:
            _materialize(self)
        return self._native

    # arithmetic
    def __add__(self, other): return _call("add", self, other)
    def __radd__(self, other): return _call("add", other, self)
    def __sub__(self, other): return _call("subtract", self, other)
    def __rsub__(self, other): return _call("subtract", other, self)
    def __mul__(self, other): return _call("multiply", self, other)
    def __rmul__(self, other): return _call("multiply", other, self)
    def __truediv__(self, other): return _call("truediv", self, other)
    def __rtruediv__(self, other): return _call("truediv", other, self)
    def __floordiv__(self, other): return _call("floordiv", self, other)
    def __rfloordiv__(self, other): return _call("floordiv", other, self)
    def __mod__(self, other): return _call("mod", self, other)
    def __rmod__(self, other): return _call("mod", other, self)
    def __neg__(self): return _call("neg", self)

    # comparisons
    def __eq__(self, other): return _call("eq", self, other)  # type: ignore[override]
    def __ne__(self, other): return _call("ne", self, other)  # type: ignore[override]
    def __lt__(self, other): return _call("lt", self, other)
    def __le__(self, other): return _call("le", self, other)
    def __gt__(self, other): return _call("gt", self, other)
    def __ge__(self, other): return _call("ge", self, other)

    # logic (Kleene: null & False is False)
    def __and__(self, other): return _chain("and", self, other)
    def __rand__(self, other): return _chain("and", other, self)
    def __or__(self, other): return _chain("or", self, other)
    def __ror__(self, other): return _chain("or", other, self)
    def __invert__(self): return _call("not", self)

    def __bool__(self):
        raise TypeError(
            "an expression has no truth value; use & | ~ instead of and/or/not, "
            "and parentheses around comparisons: (col('a') > 1) & (col('b') < 2)")

    __hash__ = None  # type: ignore[assignment]

    def is_null(self) -> "Expr":
        return _call("is_null", self)

    def is_not_null(self) -> "Expr":
        return _call("is_valid", self)

    def isin(self, values: Iterable[Any]) -> "Expr":
        array = pa.array(list(values))
        schema_capsule, array_capsule = array.__arrow_c_array__()
        return Expr(_sluice.expr_is_in(self._expr, schema_capsule, array_capsule))

    is_in = isin

    def cast(self, to: "pa.DataType | str", safe: bool = True) -> "Expr":
        type_ = pa.type_for_alias(to) if isinstance(to, str) else to
        return Expr(_sluice.expr_cast(self._expr, type_.__arrow_c_schema__(), safe))

    @property
    def str(self) -> "StringMethods":
        return StringMethods(self)

    @property
    def dt(self) -> "TemporalMethods":
        return TemporalMethods(self)

    def fill_null(self, value: Any) -> "Expr":
        return _call("coalesce", self, value)

    # Ray-style shortcuts
    def contains(self, pattern: str, ignore_case: bool = False) -> "Expr":
        return self.str.contains(pattern, ignore_case)

    def starts_with(self, prefix: str, ignore_case: bool = False) -> "Expr":
        return self.str.starts_with(prefix, ignore_case)

    def ends_with(self, suffix: str, ignore_case: bool = False) -> "Expr":
        return self.str.ends_with(suffix, ignore_case)

    def lower(self) -> "Expr":
        return self.str.lower()

    def upper(self) -> "Expr":
        return self.str.upper()

    def length(self) -> "Expr":
        return self.str.length()

    def abs(self) -> "Expr":
        return _call("abs", self)

    def referenced_columns(self) -> list[str]:
        return list(self._expr.referenced_columns())

    def __repr__(self) -> str:
        return f"Expr({self._expr!r})"


class StringMethods:
    """String functions: ``col("s").str.contains("x")``."""

    __slots__ = ("_owner",)

    def __init__(self, owner: Expr):
        self._owner = owner

    def _match(self, kind: str, pattern: str, ignore_case: bool) -> Expr:
        if not isinstance(pattern, str):
            raise TypeError(f"{kind} needs a str pattern, got {type(pattern).__name__}")
        return Expr(_sluice.expr_match(kind, self._owner._expr, pattern, ignore_case))

    def contains(self, pattern: str, ignore_case: bool = False) -> Expr:
        return self._match("contains", pattern, ignore_case)

    def starts_with(self, prefix: str, ignore_case: bool = False) -> Expr:
        return self._match("starts_with", prefix, ignore_case)

    startswith = starts_with

    def ends_with(self, suffix: str, ignore_case: bool = False) -> Expr:
        return self._match("ends_with", suffix, ignore_case)

    endswith = ends_with

    def lower(self) -> Expr:
        return _call("lower", self._owner)

    def upper(self) -> Expr:
        return _call("upper", self._owner)

    def length(self) -> Expr:
        return _call("length", self._owner)

    len = length


class TemporalMethods:
    """Date and timestamp parts: ``col("review_date").dt.year()``."""

    __slots__ = ("_owner",)

    def __init__(self, owner: Expr):
        self._owner = owner

    def year(self) -> Expr:
        return _call("year", self._owner)

    def month(self) -> Expr:
        return _call("month", self._owner)

    def day(self) -> Expr:
        return _call("day", self._owner)

    def day_of_week(self) -> Expr:
        return _call("day_of_week", self._owner)


def when(condition: Expr, then: Any, otherwise: Any = None) -> Expr:
    """``then`` where ``condition`` is true, else ``otherwise`` (null by default)."""
    then_expr, otherwise_expr = _to_expr(then), _to_expr(otherwise)
    return _call("if_else", condition, then_expr, otherwise_expr)


MAX_EXPRESSION_DEPTH: int = _sluice.MAX_EXPRESSION_DEPTH
"""How deeply expressions may nest; ``&`` / ``|`` chains count only a few levels however
long they are."""


def _call(name: str, *args: Any) -> Expr:
    return Expr(_sluice.expr_call(name, [_to_expr(a)._expr for a in args]))


def _chain(op: str, left: Any, right: Any) -> Expr:
    expr = Expr.__new__(Expr)
    expr._native = None
    expr._chain = (op, _to_expr(left), _to_expr(right))
    return expr


def _materialize(root: Expr) -> None:
    """Makes ``root`` and the pending chains below it native, without recursion.

    A pending ``&`` (``|``) node and the pending nodes of the same operator below it form
    one chain; its terms, left to right, become one native AllOf (AnyOf), which stays a few
    levels deep whatever its length. Terms that are pending chains of the other operator
    are made native first.
    """
    stack = [root]
    while stack:
        node = stack[-1]
        if node._native is not None:
            stack.pop()
            continue
        op = node._chain[0]
        terms = _chain_terms(node, op)
        pending = [term for term in terms if term._native is None]
        if pending:
            stack.extend(pending)
            continue
        natives = [term._native for term in terms]
        node._native = (_sluice.expr_all_of if op == "and" else _sluice.expr_any_of)(natives)
        node._chain = None
        stack.pop()


def _chain_terms(node: Expr, op: str) -> "list[Expr]":
    """The terms of the chain of pending ``op`` nodes rooted at ``node``, left to right."""
    terms = []
    stack = [node]
    while stack:
        current = stack.pop()
        chain = current._chain
        if current._native is None and chain[0] == op:
            stack.append(chain[2])
            stack.append(chain[1])
        else:
            terms.append(current)
    return terms


def col(name: str) -> Expr:
    """A reference to column ``name``."""
    if not isinstance(name, str):
        raise TypeError(f"col() takes a column name (str), got {type(name).__name__}")
    return Expr(_sluice.expr_col(name))


def lit(value: Any) -> Expr:
    """A constant; its Arrow type is inferred (``pa.scalar`` values keep theirs)."""
    if isinstance(value, Expr):
        return value
    kind = type(value)
    if kind is int and -(2 ** 63) <= value < 2 ** 63:
        return Expr(_sluice.expr_lit_int64(value))
    if kind is float:
        return Expr(_sluice.expr_lit_double(value))
    if kind is str:
        return Expr(_sluice.expr_lit_string(value))
    if kind is bool:
        return Expr(_sluice.expr_lit_bool(value))
    if isinstance(value, pa.Scalar):
        array = pa.array([value.as_py()], type=value.type)
    else:
        array = pa.array([value])
    schema_capsule, array_capsule = array.__arrow_c_array__()
    return Expr(_sluice.expr_lit(schema_capsule, array_capsule))
