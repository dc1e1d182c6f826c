from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from cooperation import backups


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into the database, with the primary "
        "keys, history and search tables it had. Refuses a database that holds records "
        "(more than `migrate` writes) unless --force; on PostgreSQL the restore is one "
        "transaction, so one that fails changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="A backup file: a SQLite database or a pg_dump archive.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, choices=tuple(connections))
        parser.add_argument(
            "--force", action="store_true", help="Replace a database that holds records."
        )

    def handle(self, *args, file, database, force, **options):
        connection = connections[database]
        try:
            backups.restore(connection, file, force=force)
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Restored {file} into the {connection.vendor} database. If this version of "
            "the site is newer than the backup, run `manage.py migrate` next."
        )
