from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections

from cooperation import partners
from cooperation.models import PartnerPair


class Command(BaseCommand):
    help = (
        "Work out every pair of partner organisations again from the participations and "
        "agreement parties: after rows were written without signals (bulk inserts, SQL)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, choices=tuple(connections))

    def handle(self, *args, database, **options):
        partners.rebuild(database)
        pairs = PartnerPair.objects.using(database).count()
        self.stdout.write(f"{pairs:,} partner pairs (each pair counted both ways round).")
