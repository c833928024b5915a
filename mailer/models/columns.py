"""Column types every model uses: timestamps kept as aware UTC, enums stored as strings, and
random keys drawn by the database."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy import Dialect
from sqlalchemy import Enum
from sqlalchemy import String
from sqlalchemy import TypeDecorator
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from mailer.clock import as_utc


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back as an aware UTC datetime."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store aware UTC; SQLite keeps it as text without the offset."""
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return aware UTC whatever the database gave back."""
        return None if value is None else as_utc(value)


def stored_enum(cls: type[enum.Enum]) -> Enum:
    """Store an enum by value as a plain string column (no database enum type)."""
    return Enum(
        cls,
        native_enum=False,
        create_constraint=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )


class RandomKey(FunctionElement[str]):
    """SQL for a fresh key of 20 random lowercase hex digits (80 bits), drawn by the database
    for each row, also in INSERT ... SELECT and executemany, where a Python default would be
    drawn once for all the rows."""

    type = String(20)
    inherit_cache = True


@compiles(RandomKey, "sqlite")
def _random_key_sqlite(element: RandomKey, compiler: SQLCompiler, **kw: Any) -> str:
    return "lower(hex(randomblob(10)))"


@compiles(RandomKey, "postgresql")
def _random_key_postgresql(element: RandomKey, compiler: SQLCompiler, **kw: Any) -> str:
    # gen_random_uuid() (PostgreSQL 13+) draws from the operating system's strong random source.
    return "substr(encode(sha256(uuid_send(gen_random_uuid())), 'hex'), 1, 20)"
