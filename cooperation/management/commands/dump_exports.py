from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from cooperation import exports


class Command(BaseCommand):
    help = (
        "Write every public list, unfiltered and without the 100,000-row limit of an export "
        "on the site, in each of its formats, into EXPORTS_DIR (or --directory), where "
        "/exports/<file> serves them. Each file is written beside its old one and then "
        "put in its place, so a visitor never downloads half a file. Run it nightly."
    )

    def add_arguments(self, parser):
        parser.add_argument("--directory", type=Path, help="Default: the EXPORTS_DIR setting.")

    def handle(self, *args, directory=None, **options):
        directory = directory or Path(settings.EXPORTS_DIR)
        directory.mkdir(parents=True, exist_ok=True)
        for table in exports.TABLES.values():
            for export_format in table.formats:
                name = exports.file_name(table, export_format)
                part = directory / f"{name}.part"
                exports.dump(table, export_format, part)
                part.replace(directory / name)
                self.stdout.write(f"Wrote {directory / name}.")
