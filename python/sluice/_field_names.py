"""Column names with NUL bytes, or that are not UTF-8, across the Arrow C Data Interface.

The interface passes a field's name as a NUL-terminated C string, so a column ``"a\\x00b"``
(Parquet and CSV headers allow it) would arrive as ``"a"``; and pyarrow raises
UnicodeDecodeError on every access to a name that is not UTF-8. The engine therefore also
puts such a name, whole, in the field's metadata under FULL_NAME_KEY (python/src/
arrow_capsules.cc); batches and schemas imported here get it back (bytes that are not
UTF-8 shown escaped, ``caf\\xe9``), and batches handed back to the engine carry NUL names
the same way.
"""

from __future__ import annotations

import pyarrow as pa

FULL_NAME_KEY = b"sluice.full_name"


def restore_schema(schema: pa.Schema) -> pa.Schema:
    """`schema` with the full names put back and the key dropped."""
    if not any(field.metadata and FULL_NAME_KEY in field.metadata for field in schema):
        return schema  # (reads no name: a name pyarrow cannot decode has the key)
    fields = []
    for field in schema:
        if field.metadata and FULL_NAME_KEY in field.metadata:
            rest = {k: v for k, v in field.metadata.items() if k != FULL_NAME_KEY}
            name = field.metadata[FULL_NAME_KEY].decode("utf-8", "backslashreplace")
            field = field.with_name(name).remove_metadata()
            if rest:
                field = field.with_metadata(rest)
        fields.append(field)
    return pa.schema(fields, metadata=schema.metadata)


def restore_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    imported = batch.schema
    schema = restore_schema(imported)
    if schema is imported:
        return batch
    # Renamed first: pyarrow reads the old names to hand out columns.
    renamed = batch.rename_columns(schema.names)
    return pa.RecordBatch.from_arrays(renamed.columns, schema=schema)


def carry_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """`batch` with the names that hold NUL bytes also in their fields' metadata."""
    if not any("\x00" in name for name in batch.schema.names):
        return batch
    fields = []
    for field in batch.schema:
        if "\x00" in field.name:
            field = field.with_metadata({**(field.metadata or {}),
                                         FULL_NAME_KEY: field.name.encode()})
        fields.append(field)
    return pa.RecordBatch.from_arrays(batch.columns,
                                      schema=pa.schema(fields, metadata=batch.schema.metadata))
