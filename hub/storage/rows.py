"""Reading query results by name, never by position: typed helpers over psycopg's row factories.

`one()` and `many()` build a record per row with `class_row`, matching the
query's column names to the record's fields, so a reordered SELECT list is
harmless and a misspelt column is an error, not a silently shifted value.
`scalar()` and `scalars()` read a one-column result with `scalar_row`;
`exists()` says whether a query found a row. Every helper opens its own cursor
on the caller's connection, so it runs in the caller's transaction.
"""

from __future__ import annotations

from typing import Any, LiteralString, TypeVar

import psycopg
from psycopg import sql
from psycopg.abc import Params
from psycopg.rows import class_row, scalar_row

T = TypeVar("T")
Conn = psycopg.Connection[Any]
Query = LiteralString | bytes | sql.SQL | sql.Composed


def one(conn: Conn, cls: type[T], query: Query, params: Params | None = None) -> T | None:
    """The first row as a `cls`, or None when there is none."""
    with conn.cursor(row_factory=class_row(cls)) as cur:
        return cur.execute(query, params).fetchone()


def many(conn: Conn, cls: type[T], query: Query, params: Params | None = None) -> list[T]:
    """Every row as a `cls`."""
    with conn.cursor(row_factory=class_row(cls)) as cur:
        return cur.execute(query, params).fetchall()


def scalar(conn: Conn, query: Query, params: Params | None = None) -> Any:
    """The first column of the first row; None when there is no row."""
    with conn.cursor(row_factory=scalar_row) as cur:
        return cur.execute(query, params).fetchone()


def scalars(conn: Conn, query: Query, params: Params | None = None) -> list[Any]:
    """The first column of every row."""
    with conn.cursor(row_factory=scalar_row) as cur:
        return cur.execute(query, params).fetchall()


def exists(conn: Conn, query: Query, params: Params | None = None) -> bool:
    """Whether the query returns a row."""
    with conn.cursor() as cur:
        return cur.execute(query, params).fetchone() is not None
