"""The filter text every call accepts (``ds.filter(expr=...)``, ``read_parquet(filter=...)``,
``read_table(filter=...)``, ``sl.catalog.list_partitions(...)``): SQL-style
(``year = 2015 AND marketplace IN ('US','UK')``, parsed by the engine) or Ray Data's
Python-style (``x > 1 and s == 'US'``, a safe subset of Python syntax; nothing is eval'd).
A text both accept means the same in both."""

from __future__ import annotations

import ast
from typing import Any

from .expressions import Expr, col, lit

_COMPARE = {
    ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
}
_BINARY = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b,
}


def parse_filter(text: str) -> Expr:
    """``text`` as a filter. Python-style is tried first, so ``s == "US"`` compares column
    ``s`` with a string, as in Ray Data; SQL-style is used when Python cannot read the text
    or the Python reading names no column (``"status" = 'on'`` names column ``status`` in
    SQL). When neither reads it, the error gives the SQL parser's reason (with the
    position) and Python's."""
    try:
        python_reading = parse_predicate(text)
        if python_reading._expr.referenced_columns():
            return python_reading
        python_error: Exception = ValueError("it names no column")
    except (ValueError, TypeError) as error:
        python_error = error
    from . import _sluice
    from .errors import SluiceValueError
    try:
        return Expr(_sluice.parse_predicate(text))
    except ValueError as sql_error:
        raise SluiceValueError(f"{sql_error} (nor is it a Python-style filter: "
                               f"{python_error})") from None


def parse_predicate(text: str) -> Expr:
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"cannot parse filter expression {_shown(text)}: {exc.msg}") from None
    except (RecursionError, MemoryError):  # Python's own parser gives up on deep nesting
        raise ValueError(f"filter expression {_shown(text)} is nested too deeply") from None
    try:
        result = _convert(tree.body, text)
    except RecursionError:
        raise ValueError(f"filter expression {_shown(text)} is nested too deeply "
                         f"(and / or chains may be any length; other nesting is limited)") from None
    if not isinstance(result, Expr):
        raise ValueError(f"filter expression {_shown(text)} does not refer to any column")
    return result


def _shown(text: str, limit: int = 200) -> str:
    """The filter text for a message, shortened: it may hold 100,000 terms."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"


def _convert(node: ast.AST, text: str) -> Any:
    if isinstance(node, ast.BoolOp):
        values = [_convert(v, text) for v in node.values]
        out = values[0]
        for v in values[1:]:
            out = (out & v) if isinstance(node.op, ast.And) else (out | v)
        return out
    if isinstance(node, ast.UnaryOp):
        operand = _convert(node.operand, text)
        if isinstance(node.op, ast.Not):
            return ~operand
        if isinstance(node.op, ast.USub):
            return -operand
    if isinstance(node, ast.Compare):
        left = _convert(node.left, text)
        out = None
        for op, right_node in zip(node.ops, node.comparators):
            right = _convert(right_node, text)
            if isinstance(op, (ast.In, ast.NotIn)):
                if not isinstance(right, (list, tuple, set)):
                    raise ValueError(f"'in' needs a literal list in {_shown(text)}")
                term = left.isin(right)
                if isinstance(op, ast.NotIn):
                    term = ~term
            elif isinstance(op, (ast.Is, ast.IsNot)) and right is None:
                term = left.is_null() if isinstance(op, ast.Is) else left.is_not_null()
            elif type(op) in _COMPARE:
                term = _COMPARE[type(op)](left if isinstance(left, Expr) else lit(left), right)
            else:
                raise ValueError(f"unsupported comparison in {_shown(text)}")
            out = term if out is None else out & term
            left = right
        return out
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left = _convert(node.left, text)
        right = _convert(node.right, text)
        return _BINARY[type(node.op)](left if isinstance(left, Expr) else lit(left), right)
    if isinstance(node, ast.Name):
        return col(node.id)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [_convert(e, text) for e in node.elts]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "col":
        if len(node.args) == 1 and isinstance(node.args[0], ast.Constant):
            return col(node.args[0].value)
    raise ValueError(f"unsupported syntax in filter expression {_shown(text)}: {ast.dump(node)[:80]}")
