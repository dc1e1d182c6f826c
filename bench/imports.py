"""
Time an admin import of N activities, preview and confirmation, on a fresh SQLite file (or
the database DATABASE_URL names, which must be empty), and print the seconds each took.

    .venv/bin/python bench/imports.py --activities 2000

Each activity row names two participating organisations, two areas, two countries, and a
start and an end date, as an export writes them. The preview is the import's dry run; the
confirmation imports the same file for real, as one revision.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--activities", type=int, default=2000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("DATABASE_URL", f"sqlite:///{folder}/imports.sqlite3")
        run(arguments.activities)


def run(count):
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from cooperation.imports import ActivityResource
    from cooperation.models import Activity, Area, Organisation
    from cooperation.spreadsheets import CSV

    call_command("migrate", verbosity=0)
    if Activity.objects.exists():
        sys.exit("The database holds activities: name an empty one.")
    Organisation.objects.bulk_create(
        Organisation(name=f"Organisation {n}", slug=f"org-{n}", kind="other") for n in range(50)
    )
    Area.objects.bulk_create(Area(name=f"Area {n}", slug=f"area-{n}") for n in range(20))
    user = get_user_model().objects.create_user("bench")
    lines = ["title,slug,status,start_date,end_date,participations,areas,countries"]
    lines += [
        f"Activity {n},activity-{n},implementation,March {2000 + n % 25},{2026 + n % 3},"
        f"org-{n % 50}:implementing;org-{(n + 1) % 50}:funding,"
        f"area-{n % 20};area-{(n + 7) % 20},FR;DE"
        for n in range(count)
    ]
    content = ("\n".join(lines) + "\n").encode()

    for step, dry_run in [("preview", True), ("confirmation", False)]:
        started = time.perf_counter()
        dataset = CSV().create_dataset(content)
        result = ActivityResource().import_data(
            dataset, dry_run=dry_run, user=user, file_name="bench.csv"
        )
        seconds = time.perf_counter() - started
        assert not result.has_errors() and not result.has_validation_errors()
        print(
            f"{step}: {count} activities, {len(content) / 1024:.0f} KB, {seconds:.1f} s "
            f"({seconds / count * 1000:.1f} ms a row)"
        )
    print(f"activities in the database: {Activity.objects.count()}")


if __name__ == "__main__":
    main()
