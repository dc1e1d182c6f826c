import functools
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from cooperation import api, exports


class Command(BaseCommand):
    help = (
        "Write every public list, unfiltered and without the 100,000-row limit of an export "
        "on the site, in each of its formats, and every published activity in JSON, into "
        "EXPORTS_DIR (or --directory), where /exports/<file> serves them. Each file is "
        "written beside its old one and then put in its place, so a visitor never downloads "
        "half a file. Run it nightly."
    )

    def add_arguments(self, parser):
        parser.add_argument("--directory", type=Path, help="Default: the EXPORTS_DIR setting.")

    def handle(self, *args, directory=None, **options):
        directory = directory or Path(settings.EXPORTS_DIR)
        directory.mkdir(parents=True, exist_ok=True)
        dumps = [
            (
                exports.file_name(table, export_format),
                functools.partial(exports.dump, table, export_format),
            )
            for table in exports.TABLES.values()
            for export_format in table.formats
        ]
        dumps.append((exports.JSON_DUMP, api.dump_activities))
        for name, write in dumps:
            part = directory / f"{name}.part"
            write(part)
            part.replace(directory / name)
            self.stdout.write(f"Wrote {directory / name}.")
