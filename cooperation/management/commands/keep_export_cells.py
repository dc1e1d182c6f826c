import time

from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections

from cooperation import kept


class Command(BaseCommand):
    help = (
        "Work out and keep the export cells of every published activity's linked rows "
        "(organisations, areas, countries, regions, citations), which exports then read "
        "while they are still true instead of joining those rows again. Only those whose "
        "links or names changed since they were kept are worked out again, so it may run "
        "every few minutes; run it at least nightly, before dump_exports. PostgreSQL "
        "only: SQLite's exports work out every cell."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, choices=tuple(connections))
        parser.add_argument(
            "--all",
            action="store_true",
            dest="everything",
            help="Work out the cells of every published activity, still true or not.",
        )
        parser.add_argument(
            "--forget",
            action="store_true",
            help="Forget every kept cell instead: exports work out every cell again.",
        )

    def handle(self, *args, database, everything, forget, **options):
        if forget:
            kept.forget(database)
            self.stdout.write("Forgot every kept cell.")
            return
        if connections[database].vendor != "postgresql":
            self.stdout.write("Nothing kept on SQLite: its exports work out every cell.")
            return
        started = time.monotonic()
        number, published = kept.keep(database, everything, report=self.report)
        seconds = time.monotonic() - started
        self.stdout.write(
            f"Kept the cells of {number:,} of {published:,} published activities in "
            f"{seconds:.1f} s; the others' were still true."
        )

    def report(self, done, total):
        if done % 100_000 < kept.CHUNK or done == total:
            self.stdout.write(f"{done:,} of {total:,} activities")
