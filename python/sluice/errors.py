"""Exceptions raised by Sluice.

Every engine error is a :class:`SluiceError`; the subclasses also derive from the matching
built-in exception, so ``except OSError`` or ``except ValueError`` work as expected.
Exceptions raised by user functions reach the caller unchanged (same type), with a note
saying where inside the job they happened.
"""


class SluiceError(Exception):
    """Base class of every error the engine reports."""


class SluiceIOError(SluiceError, OSError):
    """A file could not be found, read, decoded or written (names the file)."""


class ColumnNotFoundError(SluiceError, KeyError):
    """A column name that does not exist (the message lists the columns)."""

    def __str__(self) -> str:  # KeyError would show the message quoted
        return str(self.args[0]) if self.args else ""


class NotInCatalogError(SluiceError, LookupError):
    """A database or table that the catalog does not have."""


class SluiceTypeError(SluiceError, TypeError):
    """A value or expression has the wrong type."""


class SluiceValueError(SluiceError, ValueError):
    """Invalid input data or arguments (malformed rows, bad options)."""


class SluiceMemoryError(SluiceError, MemoryError):
    """The memory budget or a capacity limit was exceeded."""


class SluiceCancelled(SluiceError):
    """The execution was cancelled."""


class SluiceNotImplementedError(SluiceError, NotImplementedError):
    """The operation is not supported for this input."""
