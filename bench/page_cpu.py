"""
The processor time each page of the load test's mix costs the server: every address of
tests/load/mixed_load.py pages(), asked for in process through Django's test client with
DEBUG off, after one warm-up request each (the cache warm, as under load).

    .venv/bin/python bench/page_cpu.py [--requests 10] [--top 15]
    DATABASE_URL=postgres://…/perf_1m .venv/bin/python bench/page_cpu.py

Without DATABASE_URL the seed data, loaded into a temporary SQLite file. Printed: the
costliest pages (processor ms of this process a request, which leaves out the database
server's own time on PostgreSQL; wall ms; queries), then the mean over the mix, each page
as likely as wrk draws it, and the requests a second that mean allows two cores, a bound
the load test's figures meet only when nothing else runs.

Processor time rather than wall time: it is what limits the requests a second when every
core is busy, and it moves less than wall time on a machine shared with other work.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import setup_django  # noqa: E402
from tests.load.mixed_load import pages  # noqa: E402


def parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10, help="Timed requests a page (10).")
    parser.add_argument("--top", type=int, default=15, help="Costliest pages printed (15).")
    return parser.parse_args()


def cost(client, path, requests):
    """(processor ms, wall ms) of a request for `path`, medians, and its status."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        status = client.get(path).status_code
    count = len(queries)  # Each request empties the connection's log.
    processor, wall = [], []
    for _ in range(requests):
        begun, begun_wall = time.process_time(), time.perf_counter()
        response = client.get(path)
        b"".join(response) if response.streaming else response.content
        processor.append((time.process_time() - begun) * 1000)
        wall.append((time.perf_counter() - begun_wall) * 1000)
    return statistics.median(processor), statistics.median(wall), status, count


def main():
    args = parse()
    folder = tempfile.TemporaryDirectory()
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(folder.name) / 'seed.sqlite3'}"
    setup_django()
    from django.core.management import call_command
    from django.test import Client, override_settings

    from cooperation.models import Activity

    call_command("migrate", verbosity=0)
    if not Activity.objects.exists():
        call_command("load_seed", verbosity=0)
    plain_static = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=plain_static):
        client = Client()
        found = [(path, *cost(client, path, args.requests)) for path in pages()]
    found.sort(key=lambda row: -row[1])
    print(f"{'processor ms':>12} {'wall ms':>8} {'status':>6} {'queries':>7}  page")
    for path, processor, wall, status, queries in found[: args.top]:
        print(f"{processor:12.2f} {wall:8.2f} {status:6} {queries:7}  {path}")
    mean = statistics.mean(row[1] for row in found)
    print(f"\n{len(found)} pages; mean processor time {mean:.2f} ms a request")
    print(f"at most {2 * 1000 / mean:.0f} requests/s on two cores")
    folder.cleanup()


if __name__ == "__main__":
    main()
