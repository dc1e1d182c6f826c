from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections

from cooperation import search


class Command(BaseCommand):
    help = (
        "Repair full-text search: create any missing search table, trigger or column and, "
        "on SQLite, index every activity, organisation and agreement again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, choices=tuple(connections))

    def handle(self, *args, database, **options):
        connection = connections[database]
        search.rebuild(connection)
        self.stdout.write(f"Search indexes rebuilt on {connection.vendor}.")
