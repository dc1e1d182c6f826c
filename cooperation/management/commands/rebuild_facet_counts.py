from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections

from cooperation import counts


class Command(BaseCommand):
    help = (
        "Count every facet of the unfiltered activity and agreement lists again: after rows "
        "were written without signals (bulk inserts, update(), SQL)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, choices=tuple(connections))

    def handle(self, *args, database, **options):
        counts.rebuild(database)
        activities = counts.total(counts.ACTIVITIES, database)
        agreements = counts.total(counts.AGREEMENTS, database)
        self.stdout.write(
            f"Counted the facets of {activities:,} published activities "
            f"and {agreements:,} published agreements."
        )
