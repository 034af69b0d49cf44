"""Edits the Thrift footer of a Parquet file, to make files whose metadata lies (corrupt
row counts, extra column chunks) that no writer would produce.

The footer is Thrift's compact protocol; it is decoded into nested lists that keep every
field (id, type, value) in order, so re-encoding an unedited footer gives the same bytes.
Field ids follow parquet.thrift: FileMetaData 3 = num_rows, 4 = row_groups;
RowGroup 1 = columns, 3 = num_rows.
"""

import struct
from pathlib import Path

MAGIC = b"PAR1"
_BOOL_TRUE, _BOOL_FALSE, _I8, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = (
    range(1, 13))

FILE_NUM_ROWS, FILE_ROW_GROUPS = 3, 4
ROW_GROUP_COLUMNS, ROW_GROUP_NUM_ROWS = 1, 3


class Struct(list):
    """A Thrift struct: [field_id, type, value] entries in file order."""

    def _entry(self, field_id):
        return next(entry for entry in self if entry[0] == field_id)

    def get(self, field_id):
        return self._entry(field_id)[2]

    def set(self, field_id, value):
        self._entry(field_id)[2] = value


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def byte(self) -> int:
        self.pos += 1
        return self.data[self.pos - 1]

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def value(self, kind: int):
        if kind in (_BOOL_TRUE, _BOOL_FALSE):  # a list element: one byte
            return self.byte() == 1
        if kind == _I8:
            return struct.unpack("b", bytes([self.byte()]))[0]
        if kind in (_I16, _I32, _I64):
            return self.zigzag()
        if kind == _DOUBLE:
            self.pos += 8
            return struct.unpack("<d", self.data[self.pos - 8:self.pos])[0]
        if kind == _BINARY:
            n = self.varint()
            self.pos += n
            return self.data[self.pos - n:self.pos]
        if kind in (_LIST, _SET):
            header = self.byte()
            size = header >> 4 if header >> 4 != 15 else self.varint()
            element = header & 0x0F
            return (element, [self.value(element) for _ in range(size)])
        if kind == _STRUCT:
            return self.struct()
        raise ValueError(f"Thrift type {kind} is not used by Parquet footers")

    def struct(self) -> Struct:
        out, last = Struct(), 0
        while True:
            header = self.byte()
            if header == 0:
                return out
            kind, delta = header & 0x0F, header >> 4
            field_id = last + delta if delta else self.zigzag()
            value = kind == _BOOL_TRUE if kind in (_BOOL_TRUE, _BOOL_FALSE) else self.value(kind)
            out.append([field_id, kind, value])
            last = field_id


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        if n < 0x80:
            out.append(n)
            return bytes(out)
        out.append((n & 0x7F) | 0x80)
        n >>= 7


def _zigzag(n: int) -> bytes:
    return _varint((n << 1) ^ (n >> 63))


def _encode_value(kind: int, value) -> bytes:
    if kind in (_BOOL_TRUE, _BOOL_FALSE):
        return bytes([1 if value else 2])
    if kind == _I8:
        return struct.pack("b", value)
    if kind in (_I16, _I32, _I64):
        return _zigzag(value)
    if kind == _DOUBLE:
        return struct.pack("<d", value)
    if kind == _BINARY:
        return _varint(len(value)) + value
    if kind in (_LIST, _SET):
        element, items = value
        header = bytes([(len(items) << 4) | element]) if len(items) < 15 else (
            bytes([0xF0 | element]) + _varint(len(items)))
        return header + b"".join(_encode_value(element, item) for item in items)
    if kind == _STRUCT:
        return encode_struct(value)
    raise ValueError(f"Thrift type {kind} is not used by Parquet footers")


def encode_struct(fields) -> bytes:
    out, last = bytearray(), 0
    for field_id, kind, value in fields:
        if kind in (_BOOL_TRUE, _BOOL_FALSE):
            kind = _BOOL_TRUE if value else _BOOL_FALSE
        if 0 < field_id - last <= 15:
            out.append(((field_id - last) << 4) | kind)
        else:
            out.append(kind)
            out += _zigzag(field_id)
        if kind not in (_BOOL_TRUE, _BOOL_FALSE):
            out += _encode_value(kind, value)
        last = field_id
    out.append(0)
    return bytes(out)


def read_footer(path: Path) -> Struct:
    data = Path(path).read_bytes()
    assert data[-4:] == MAGIC, f"{path} is not a Parquet file"
    length = struct.unpack("<I", data[-8:-4])[0]
    return _Reader(data[-8 - length:-8]).struct()


def write_footer(path: Path, footer: Struct) -> None:
    """Replaces the footer of the Parquet file at `path` with `footer`."""
    data = Path(path).read_bytes()
    length = struct.unpack("<I", data[-8:-4])[0]
    encoded = encode_struct(footer)
    Path(path).write_bytes(data[:-8 - length] + encoded + struct.pack("<I", len(encoded)) + MAGIC)


def row_groups(footer: Struct) -> list:
    """The footer's RowGroup structs (edits to them edit the footer)."""
    return footer.get(FILE_ROW_GROUPS)[1]
