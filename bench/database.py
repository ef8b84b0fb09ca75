"""Creates the PostgreSQL database of a DATABASE_URL if it does not exist (used by make bench).

Usage: python bench/database.py postgres://postgres@127.0.0.1:5432/pm_value_bench
"""

import sys
from urllib.parse import unquote, urlsplit

import psycopg2
from psycopg2 import sql


def database_ensure(url: str) -> bool:
    """Creates the database named in the URL; True when it had to be created."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise SystemExit(f"{url} is not a PostgreSQL URL (postgres://user@host:port/name).")
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise SystemExit(f"{url} names no database.")
    try:
        connection = psycopg2.connect(
            dbname="postgres",
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password) if parts.password else None,
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            connect_timeout=5,
        )
    except psycopg2.OperationalError as exc:
        raise SystemExit(
            f"Cannot reach PostgreSQL at {parts.hostname}:{parts.port}: {exc}"
        ) from exc
    connection.autocommit = True  # CREATE DATABASE cannot run inside a transaction
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone():
                return False
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    finally:
        connection.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    created = database_ensure(sys.argv[1])
    print(("Created" if created else "Using") + f" the database {urlsplit(sys.argv[1]).path[1:]}.")
