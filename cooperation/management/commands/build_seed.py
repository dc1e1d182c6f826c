from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cooperation import seed


class Command(BaseCommand):
    help = (
        "Build the seed fixture from cooperation/seed.py and the press release in fixtures/, "
        "checking every quote against the release, and write it to fixtures/seed.json. "
        "With --check, write nothing and fail if the file differs from a fresh build."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Write nothing; exit with an error if the file is missing or out of date.",
        )
        parser.add_argument(
            "--output",
            type=Path,
            default=seed.seed_path(),
            help="The file to write or check (default: fixtures/seed.json).",
        )

    def handle(self, *args, check, output, **options):
        try:
            fixture = seed.build_fixture()
        except ValueError as error:
            raise CommandError(error) from error
        content = seed.dumps(fixture)
        if check:
            try:
                current = output.read_text(encoding="utf-8")
            except FileNotFoundError:
                raise CommandError(f"{output} is missing: run manage.py build_seed.") from None
            if current != content:
                raise CommandError(f"{output} is out of date: run manage.py build_seed.")
            self.stdout.write(f"{output} is up to date.")
        else:
            output.write_text(content, encoding="utf-8")
            self.stdout.write(f"Wrote {len(fixture)} objects to {output}.")
