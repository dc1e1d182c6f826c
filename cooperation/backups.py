"""
Physical backups of the whole database, taken while the site runs.

A backup is a copy of the database itself, not of its rows as Django serialises them:
every primary key, every sequence's next value, the history (django-reversion's tables,
whose object ids point at those keys) and the full-text search tables come back exactly.
`dumpdata` and `loaddata` are no backup: with natural keys they renumber the rows, and
`/activities/7/`, linked from exports, feeds, the API and IATI files, becomes another
activity or none.

- SQLite: Python's `sqlite3` online backup API copies the database in one step from a
  read snapshot. In WAL mode, readers and writers carry on meanwhile; the copy holds
  the last committed state. The file is a SQLite database on its own (no -wal file).
- PostgreSQL: `pg_dump --format=custom`, a consistent snapshot that blocks no one, and
  `pg_restore` in one transaction: a restore that fails changes nothing. Both run with
  the connection settings of `DATABASE_URL` in their environment (`PGHOST`, `PGPORT`,
  `PGUSER`, `PGPASSWORD`, `PGDATABASE`), never on their command line, where any user
  of the machine could read the password. Their major version must be the server's.
"""

import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.apps import apps
from django.utils import timezone

from .models import KeptCells

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"

#: Rows that `migrate` itself writes: a database holding only these is empty.
MADE_BY_MIGRATE = [
    "contenttypes.ContentType",
    "auth.Permission",
    "auth.Group",
    "auth.Group_permissions",
    "cooperation.Country",
    "cooperation.NamesVersion",
]

#: libpq's environment variables, each with its key in Django's settings of a database.
PG_ENVIRONMENT = {
    "PGHOST": "HOST",
    "PGPORT": "PORT",
    "PGUSER": "USER",
    "PGPASSWORD": "PASSWORD",
    "PGDATABASE": "NAME",
}


class BackupError(Exception):
    """A backup or restore that cannot be done, in words for the operator."""


def default_path(connection, directory):
    """`directory`/<database>-<UTC date and time>.<sqlite3 or dump>."""
    name = Path(str(connection.settings_dict["NAME"])).stem or connection.vendor
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    suffix = "sqlite3" if connection.vendor == "sqlite" else "dump"
    return Path(directory) / f"{name}-{stamp}.{suffix}"


def backup(connection, path):
    """Write a physical copy of the database behind `connection` to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside, then renamed: a backup cut short never passes for a whole one.
    partial = path.with_name(f"{path.name}.partial")
    try:
        if connection.vendor == "sqlite":
            _sqlite_backup(connection, partial)
        elif connection.vendor == "postgresql":
            _pg_backup(connection, partial)
        else:
            raise BackupError(f"Backups of {connection.vendor} databases are not supported.")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def restore(connection, path, force=False):
    """
    Replace the database behind `connection` by the backup at `path`. A database that
    holds records (more than `migrate` writes) is refused unless `force`.
    """
    path = Path(path)
    _check_kind(connection, path)
    if not force and (tables := tables_with_records(connection)):
        raise BackupError(
            f"The database holds records (in {', '.join(tables[:5])}"
            f"{', …' if len(tables) > 5 else ''}); restoring would replace them. "
            "Restore into an empty database, or give --force."
        )
    if connection.vendor == "sqlite":
        _sqlite_restore(connection, path)
    else:
        _pg_restore(connection, path)


def tables_with_records(connection):
    """The tables that hold rows other than those `migrate` writes, by name."""
    made_by_migrate = {apps.get_model(label)._meta.db_table for label in MADE_BY_MIGRATE}
    tables = {
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }
    tables = sorted(tables.intersection(connection.introspection.table_names()) - made_by_migrate)
    with connection.cursor() as cursor:
        return [table for table in tables if _holds_rows(cursor, connection.ops.quote_name(table))]


def _holds_rows(cursor, table):
    cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")
    return cursor.fetchone() is not None


def _check_kind(connection, path):
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    with path.open("rb") as file:
        header = file.read(len(SQLITE_HEADER))
    kinds = {"sqlite": SQLITE_HEADER, "postgresql": PG_DUMP_HEADER}
    found = next((vendor for vendor, magic in kinds.items() if header.startswith(magic)), None)
    if found is None:
        raise BackupError(
            f"{path} is neither a SQLite database nor a pg_dump archive (custom format)."
        )
    if found != connection.vendor:
        raise BackupError(
            f"{path} is a backup of a {found} database; DATABASE_URL names a "
            f"{connection.vendor} database."
        )


# SQLite


def _sqlite_backup(connection, path):
    connection.ensure_connection()
    target = sqlite3.connect(path)
    try:
        # All pages in one step, from one read snapshot; a writer is not held up in WAL mode.
        connection.connection.backup(target)
        # The copy has the journal mode of the live database; a backup is one file.
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()


def _sqlite_restore(connection, path):
    try:
        source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise BackupError(f"{path} cannot be opened: {error}.") from error
    try:
        problems = [row[0] for row in source.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise BackupError(f"{path} is damaged: {'; '.join(problems[:3])}.")
        migrations = "SELECT 1 FROM sqlite_master WHERE name = 'django_migrations'"
        if source.execute(migrations).fetchone() is None:
            raise BackupError(f"{path} is a SQLite database but not a backup of this site.")
        connection.ensure_connection()
        source.backup(connection.connection)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a readable SQLite database: {error}.") from error
    finally:
        source.close()


# PostgreSQL


def _pg_backup(connection, path):
    # The kept export cells are worked out from the rest (kept.py), and at a million
    # activities take more room than it: keep_export_cells fills them again.
    kept = f"--exclude-table-data={KeptCells._meta.db_table}"
    _pg_run(connection, "pg_dump", ["--format=custom", kept, f"--file={path}"])


def _pg_restore(connection, path):
    # Reads the archive's table of contents: a file that is not whole fails here.
    _pg_run(connection, "pg_restore", ["--list", str(path)], failure=f"{path} is damaged")
    _pg_run(
        connection,
        "pg_restore",
        [
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            # Without --dbname pg_restore prints SQL instead; a database's name is no secret.
            f"--dbname={connection.settings_dict['NAME']}",
            str(path),
        ],
        failure=f"{path} could not be restored, and the database is as it was",
    )


def _pg_run(connection, tool, arguments, failure=None):
    settings = connection.settings_dict
    environment = dict(os.environ)
    for variable, key in PG_ENVIRONMENT.items():
        if settings.get(key):
            environment[variable] = str(settings[key])
    if sslmode := settings.get("OPTIONS", {}).get("sslmode"):
        environment["PGSSLMODE"] = sslmode
    result = subprocess.run(
        [_pg_tool(connection, tool), *arguments],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise BackupError(f"{failure or f'{tool} failed'}: {result.stderr.strip()}")
    return result.stdout


def _pg_tool(connection, tool):
    """The path of `tool` of the server's major version: on the PATH or where Debian puts it."""
    connection.ensure_connection()
    server = connection.pg_version // 10000
    found = {}
    for candidate in [shutil.which(tool), f"/usr/lib/postgresql/{server}/bin/{tool}"]:
        if candidate and os.access(candidate, os.X_OK):
            version = subprocess.run(
                [candidate, "--version"], capture_output=True, text=True, check=False
            ).stdout
            if match := re.search(r"\)\s*(\d+)", version):
                found[candidate] = int(match[1])
    for candidate, major in found.items():
        if major == server:
            return candidate
    versions = ", ".join(f"{path} is {major}" for path, major in found.items()) or "none found"
    raise BackupError(
        f"{tool} must be of the server's major version, PostgreSQL {server} ({versions}). "
        f"Install its client tools (on Debian: apt install postgresql-client-{server})."
    )
