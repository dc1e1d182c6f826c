from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from cooperation import backups


class Command(BaseCommand):
    help = (
        "Back up the whole database as it is, safe while the site runs: a copy of the "
        "SQLite file, or a pg_dump archive (custom format) of the PostgreSQL database. "
        "Primary keys, history and search tables are kept, so every public address stays "
        "the same after a restore. Writes backups/<database>-<date>-<time> unless --output."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, choices=tuple(connections))
        parser.add_argument("--output", help="The file to write (replaced if it exists).")

    def handle(self, *args, database, output, **options):
        connection = connections[database]
        path = output or backups.default_path(connection, settings.BASE_DIR / "backups")
        try:
            path = backups.backup(connection, path)
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Backed up the {connection.vendor} database to {path}.")
