"""
The site under load: visitors on the public pages while editors save in the admin, served
by gunicorn with the production settings on 127.0.0.1, for a bounded time.

    .venv/bin/python tests/load/mixed_load.py [--seconds 30] [--connections 16]
        [--workers 3] [--editors 2] [--pause 1.0] [--by-page R]
    make load                                  # the seed data, on a temporary SQLite file
    make load DATABASE_URL=postgres://…/bench_1m   # a database that already holds a set
    make load-demo                             # a million generated activities (see --demo)

Without DATABASE_URL the seed data is loaded into a temporary SQLite file. With it the
database is used as it is; the script adds one superuser and one activity per editor (as
tests/load/concurrent_saves.py does) and edits only those.

Visitors are wrk (Debian's package; `make load` installs it), each request a page drawn at
random from pages(): the home page, every list, the latest records' pages, filters, searches,
sorts and a deep page, and downloads() (a small selection as CSV, XLSX, HXL, IATI XML and
JSON, an Atom feed, the API), built from the data. Each editor logs in and, until wrk is done,
loads its activity's change page, changes the description and saves, then waits --pause
seconds. Printed: requests per second, p50 and p99 latency and errors of the visitors;
saves, p50 and p99 and errors of the editors; the server's exceptions. The exit status is 1
on any error.

Before the load each page is asked for once (or, with --by-page, timed alone), so that the
figures are those of a site that has been running, its cache warm.

Targets on the 2-core machine (wrk and gunicorn share the cores): with the seed data at
least 200 requests/s, with a million activities at least 40; both with no error and p99
under 500 ms while the editors save. They are reported, not asserted.
"""

import argparse
import collections
import functools
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.load.concurrent_saves import (  # noqa: E402
    SETTINGS_MODULE,
    Browser,
    Gunicorn,
    Tally,
    Unexpected,
    create_records,
    replace,
    save,
    write_settings,
)

#: How many of each kind of record's latest pages the visitors ask for.
RECORDS_EACH = 20
TARGET_P99_MS = 500
#: Where --demo keeps its set without DATABASE_URL: where bench/run.py keeps it.
DEMO_FILE = Path(__file__).resolve().parents[2] / "bench" / "out" / "demo.sqlite3"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30, help="how long wrk runs (30)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (3)")
    parser.add_argument("--editors", type=int, default=2, help="editors saving (2)")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between saves (1)")
    parser.add_argument(
        "--demo",
        type=int,
        metavar="N",
        help=(
            "a demo set of N activities (manage.py generate_demo) instead of the seed: made "
            "if the database is empty, in bench/out/demo-N.sqlite3 without DATABASE_URL"
        ),
    )
    parser.add_argument(
        "--by-page",
        type=int,
        default=0,
        metavar="R",
        help="first time each page alone, R requests in turn, and print the slowest",
    )
    return parser.parse_args()


def pages():
    """The public addresses the visitors ask for, from the data."""
    from django.urls import reverse

    from cooperation.models import Activity, Agreement, Area, Organisation, Region

    lists = ["activity-list", "organisation-list", "agreement-list", "area-list", "region-list"]
    found = ["/", *(reverse(f"cooperation:{name}") for name in lists)]
    for model in [Activity, Agreement, Organisation, Area, Region]:
        latest = model.objects.public().order_by("-pk")[:RECORDS_EACH]
        found += [record.get_absolute_url() for record in latest]
    activities = reverse("cooperation:activity-list")
    published = Activity.objects.public().count()
    organisation = Organisation.objects.public().order_by("pk").first()
    area = Area.objects.public().order_by("pk").first()
    queries = [
        "status=implementation",
        "q=training",
        "q=asylum",
        "sort=title",
        "sort=start",
        "page=2" if published > 25 else "",
        "page=200" if published > 200 * 25 else "",
        f"organisation={organisation.slug}" if organisation else "",
        f"area={area.slug}" if area else "",
    ]
    found += [f"{activities}?{query}" for query in queries if query]
    return found + downloads(organisation, area)


def downloads(organisation, area):
    """
    Exports, the API and a feed, each of a small selection as a visitor would take it away:
    the activities of the organisation among the latest with the fewest participations.
    """
    from django.db.models import Count

    from cooperation.models import Organisation

    latest = Organisation.objects.public().order_by("-pk")[:RECORDS_EACH]
    small = (
        Organisation.objects.filter(pk__in=[record.pk for record in latest])
        .annotate(links=Count("participations"))
        .order_by("links", "pk")
        .first()
    )
    if small is None:
        return []
    selection = f"organisation={small.slug}"
    found = [
        f"/activities.csv?{selection}",
        f"/activities.xlsx?{selection}",
        f"/activities.hxl.csv?{selection}",
        f"/activities.iati.xml?{selection}",
        f"/activities.json?{selection}",
        f"/activities/feed/?{selection}",
        "/agreements.csv",
        "/api/organisations/",
    ]
    if area:
        found.append(f"/activities.json?area={area.slug}")
    return found


def ask(base, path):
    """The status of one request for `path`, the answer read whole."""
    try:
        with urllib.request.urlopen(f"{base}{path}", timeout=30) as answer:
            answer.read()
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def warm(base, paths):
    """
    Each page once before the load, as a site that has been running has them: what the
    pages keep in the cache (the shared one the production settings name) is there.
    """
    started = time.perf_counter()
    for path in paths:
        ask(base, path)
    print(f"warmed: {len(paths)} pages asked for once in {time.perf_counter() - started:,.1f} s")


def time_pages(base, paths, repeat):
    """
    Each of `paths` asked for `repeat` times in turn, with nothing else running: which pages
    the load spends its time on. The first answer of each (a cold cache) is not counted.
    """
    timings = []
    for path in paths:
        durations, statuses = [], set()
        for number in range(repeat + 1):
            started = time.perf_counter()
            statuses.add(ask(base, path))
            if number:
                durations.append((time.perf_counter() - started) * 1000)
        timings.append((statistics.median(durations), max(durations), statuses, path))
    timings.sort(reverse=True)
    total = sum(median for median, *_ in timings)
    print(f"pages alone, {repeat} requests each, slowest first (p50 sum {total:,.0f} ms):")
    for median, slowest, statuses, path in timings:
        codes = ",".join(str(status) for status in sorted(statuses))
        print(f"  {median:8.1f} ms p50 {slowest:8.1f} ms max  {codes}  {path}")


def wrk_script(folder, paths):
    """A wrk script that asks for one of `paths` at random in each request."""
    quoted = ",\n".join(f'  "{path}"' for path in paths)
    script = folder / "pages.lua"
    script.write_text(
        f"paths = {{\n{quoted}\n}}\n"
        "math.randomseed(1)\n"
        "request = function()\n"
        '  return wrk.format("GET", paths[math.random(#paths)])\n'
        "end\n"
    )
    return script


def editor(base, username, password, pk, pause, stop, tally, durations):
    browser = Browser(base)
    path = f"/admin/cooperation/activity/{pk}/change/"
    try:
        browser.log_in(username, password)
    except Unexpected as error:
        tally.errors[f"log-in: {error}"] += 1
        return
    number = 0
    while not stop.is_set():
        number += 1
        value = f"{username}, save {number}"
        started = time.perf_counter()
        try:
            change = functools.partial(replace, name="description", value=value)
            save(browser, path, change, tally, 5)
        except Unexpected as error:
            tally.errors[str(error)] += 1
            tally.attempts.append((value, False))
        else:
            tally.attempts.append((value, True))
            durations.append((time.perf_counter() - started) * 1000)
        stop.wait(pause)


def run_wrk(base, script, args):
    command = [
        "wrk",
        "--threads=2",
        f"--connections={args.connections}",
        f"--duration={args.seconds}s",
        "--timeout=10s",
        "--latency",
        f"--script={script}",
        base,
    ]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def wrk_figures(output):
    """Requests per second, p50 and p99 in ms, and errors, from wrk's report."""

    def milliseconds(label):
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\b", output, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),
        "p50": milliseconds("50"),
        "p99": milliseconds("99"),
        "errors": errors + (int(non_2xx[1]) if non_2xx else 0),
        "requests": int(re.search(r"(\d+) requests in", output)[1]),
    }


def prepare(folder, database_url, editors, demo=None):
    """
    Migrate, fill an empty database with the seed (or a demo set of `demo` activities),
    collect static files; the editors' records.
    """
    write_settings(folder, stock_sqlite=False)
    secret_key = secrets.token_urlsafe(50)
    os.environ.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
        DJANGO_SECRET_KEY=secret_key,
        DJANGO_DEBUG="0",
    )
    sys.path.insert(0, str(folder))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from cooperation.models import Activity

    call_command("migrate", interactive=False, verbosity=0)
    if not Activity.objects.exists():
        if demo:
            call_command("generate_demo", activities=demo)
        else:
            call_command("load_seed", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    fixture = create_records(editors, f"mixed-{secrets.token_hex(3)}")
    paths, size = pages(), Activity.objects.public().count()
    connection.close()
    return fixture, paths, size, secret_key


def main():
    args = parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk (make load does).")
    folder = Path(tempfile.mkdtemp(prefix="mixed-load-"))
    file = (
        DEMO_FILE.with_name(f"demo-{args.demo}.sqlite3") if args.demo else folder / "load.sqlite3"
    )
    file.parent.mkdir(exist_ok=True)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{file}"
    fixture, paths, size, secret_key = prepare(folder, database_url, args.editors, args.demo)
    server = Gunicorn(folder, database_url, args.workers, secret_key)
    stop, tally, durations = threading.Event(), Tally(), []
    try:
        server.wait_until_ready()
        if args.by_page:
            time_pages(server.base, paths, args.by_page)
        else:
            warm(server.base, paths)
        editors = [
            threading.Thread(
                target=editor,
                args=(server.base, name, password, pk, args.pause, stop, tally, durations),
            )
            for (name, password), pk in zip(fixture.passwords.items(), fixture.own, strict=True)
        ]
        for thread in editors:
            thread.start()
        output = run_wrk(server.base, wrk_script(folder, paths), args)
        stop.set()
        for thread in editors:
            thread.join()
    finally:
        stop.set()
        server.stop()
    exceptions = server.exceptions()
    figures = wrk_figures(output)
    print(
        f"{size:,} public activities, {len(paths)} pages, {args.connections} connections, "
        f"{args.workers} gunicorn workers, {args.editors} editors, {args.seconds} s"
    )
    print(
        f"visitors: {figures['requests']:,} requests, "
        f"{figures['requests_per_second']:,.1f} requests/s, p50 {figures['p50']:,.1f} ms, "
        f"p99 {figures['p99']:,.1f} ms, {figures['errors']} errors"
    )
    saves = sorted(durations)
    if saves:
        p99 = saves[min(len(saves) - 1, round(0.99 * len(saves)))]
        print(
            f"editors: {len(saves)} saves, p50 {statistics.median(saves):,.1f} ms, "
            f"p99 {p99:,.1f} ms (load and save), {sum(tally.errors.values())} errors, "
            f"{tally.refused} refused and retried"
        )
    for message, count in collections.Counter(tally.errors).items():
        print(f"  editor error x{count}: {message}")
    for message, count in exceptions.items():
        print(f"  server exception x{count}: {message}")
    slow = figures["p99"] > TARGET_P99_MS
    print(f"p99 {'over' if slow else 'within'} {TARGET_P99_MS} ms")
    failed = figures["errors"] or tally.errors or exceptions or (args.editors and not saves)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
