from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.urls import reverse
from django.utils.text import Truncator

from cooperation.models import Citation, Source, quote_found


class Command(BaseCommand):
    help = (
        "Check that every citation's quote occurs, letter for letter, in its source's text. "
        "Lists each citation whose quote is not found and exits with an error if there is "
        "any. Reads a batch of sources at a time, and their citations, whatever the size of "
        "the database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, choices=tuple(connections))
        parser.add_argument(
            "--batch",
            type=int,
            default=100,
            help="How many sources' texts to hold at once (default: 100).",
        )

    def handle(self, *args, database, batch, **options):
        if batch < 1:
            raise CommandError("--batch takes a number above 0.")
        checked = lost = 0
        for sources in source_batches(database, batch):
            citations = (
                Citation.objects.using(database)
                .filter(source__in=list(sources))
                .order_by()
                .values_list("pk", "source_id", "quote")
            )
            for pk, source_id, quote in citations.iterator(chunk_size=2000):
                checked += 1
                slug, text = sources[source_id]
                if not quote_found(quote, text):
                    lost += 1
                    url = reverse("admin:cooperation_citation_change", args=[pk])
                    shown = Truncator(quote.replace("\n", " ")).chars(80)
                    self.stdout.write(f"Citation {pk} ({url}) of source {slug}: “{shown}”")
        if lost:
            raise CommandError(
                f"{lost} of {checked} citations quote words that their source's text does not hold."
            )
        self.stdout.write(f"All {checked} citations are found in their sources.")


def source_batches(database, size):
    """Every source, `size` at a time, as {id: (slug, text)}."""
    sources = Source.objects.using(database).order_by("pk").values_list("pk", "slug", "text")
    last = 0
    while batch := {pk: (slug, text) for pk, slug, text in sources.filter(pk__gt=last)[:size]}:
        yield batch
        last = max(batch)
