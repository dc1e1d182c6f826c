"""
Time every public page, list filter, search, deep page, sort and admin list on a synthetic
data set of N activities (manage.py generate_demo), in-process through Django's test client
with DEBUG off.

    .venv/bin/python bench/run.py --activities 10000      # or: make bench N=10000
    .venv/bin/python bench/run.py --check                 # CI: query counts and page sizes

The database is the one DATABASE_URL names, or bench/out/demo-<N>.sqlite3 without it. An
empty database is migrated and filled; one that holds activities is measured as it is.
For each scenario: p50 and p95 of --requests timed requests after one warm-up, the warm-up's
query count and response size, and for a list the "floor": the page's own SQL for its rows
alone (no count, no related rows, no template), timed with a cursor. Then each export of the
whole activity list (CSV, HXL, IATI XML, XLSX; see cooperation/exports.py) once: the time to
its first byte and to its last, and the rows a second it wrote (its pieces joined and its
rows counted afterwards, untimed).
--export-connections 1 reads an export's chunks one after another (cooperation/parallel.py).
On PostgreSQL the exports read the kept cells of the activities' linked rows that are still
true (cooperation/kept.py; generate_demo keeps them, as manage.py keep_export_cells does);
the report says how many are. --without-kept-cells times the exports as when none is, all
worked out.

--cold empties the cache before each timed request: what the first visitor after a change
to a record gets, as the cache's keys change with the records (cooperation/cached.py).
--only takes a part of a scenario's name, or several separated by commas; =name chooses
that scenario alone.

--check generates two small sets (--check-sizes, on temporary SQLite files, or on PostgreSQL
databases named after DATABASE_URL's, created and dropped) and fails if any page's query
count differs between them or any public page is larger than PAGE_LIMIT bytes, or when a
page gives no answer at all within CHECK_BUDGET seconds at these small sizes. Timings are
otherwise reported, never asserted.

A script rather than a management command: it is a developer's tool that sets its own
settings (DEBUG off, no HTTPS redirect, plain static storage) before Django starts, runs
itself again per database size, and is not shipped with the application.
"""

import argparse
import contextlib
import datetime
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PAGE_LIMIT = 150_000
CHECK_BUDGET = 10.0


@dataclass
class Scenario:
    name: str
    url: str
    admin: bool = False


@dataclass
class Result:
    name: str
    url: str
    admin: bool
    status: int | str = ""
    samples: list = field(default_factory=list)
    queries: int | None = None
    bytes: int | None = None
    floor_ms: float | None = None

    def quantile(self, q):
        if not self.samples:
            return None
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]

    @property
    def p50(self):
        return self.quantile(0.5)

    @property
    def p95(self):
        return self.quantile(0.95)

    @property
    def ratio(self):
        if self.floor_ms and self.p50 is not None:
            return self.p50 / self.floor_ms
        return None

    def row(self):
        return {**asdict(self), "p50_ms": self.p50, "p95_ms": self.p95, "ratio": self.ratio}


def parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--activities", "-n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=15, help="Timed requests a page.")
    parser.add_argument(
        "--budget",
        type=float,
        default=60.0,
        help=(
            "Seconds a page may take in all; past them its SQL is stopped (the error is "
            "reported) and no more requests are made."
        ),
    )
    parser.add_argument(
        "--only", help="Only scenarios whose name contains this, or one of these (a,b,c)."
    )
    parser.add_argument("--output", type=Path, help="Base name of the .json and .md report.")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="Empty the cache before each request, as a change to a record does.",
    )
    parser.add_argument(
        "--export-connections",
        type=int,
        help="Connections an export on PostgreSQL reads its chunks through (parallel.WIDTH).",
    )
    parser.add_argument(
        "--without-kept-cells",
        action="store_true",
        help="Exports work out every cell, as if no kept cell were still true.",
    )
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--check-sizes", type=int, nargs=2, default=[200, 600])
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)  # for --check's children
    parser.add_argument("--check-run", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def setup_django():
    os.environ.update(
        DJANGO_DEBUG="0",
        DJANGO_SECURE="0",
        DJANGO_ALLOWED_HOSTS="testserver,localhost",
        DJANGO_API_THROTTLE_RATE="1000000/minute",  # every request from one client
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    sys.path.insert(0, str(ROOT))
    warnings.filterwarnings("ignore", message="No directory at")  # WhiteNoise, no collectstatic
    import django

    django.setup()
    from config import heap

    heap.freeze()  # As config/wsgi.py does in a worker.
    logging.disable(logging.WARNING)  # no "Not Found" line for each deep page past the end


def prepare(activities, seed):
    """Migrate; fill an empty database with a demo set of `activities`."""
    from django.core.management import call_command

    from cooperation.models import Activity, Organisation

    call_command("migrate", verbosity=0)
    if Activity.objects.exists() or Organisation.objects.exists():
        print(f"Measuring the {Activity.objects.count():,} activities already there.")
        return None
    started = time.monotonic()
    call_command("generate_demo", activities=activities, seed=seed)
    return time.monotonic() - started


def scenarios():
    """The pages to time. Add one as a line here; the values come from the data set."""
    from django.db.models import Count

    from cooperation.management.commands.generate_demo import COMMON_WORD, RARE_WORD
    from cooperation.models import Activity, Participation, Publication
    from cooperation.paging import Key

    published = Activity.objects.public()

    def biggest(queryset, key):
        row = queryset.values(key).annotate(n=Count("*")).order_by("-n", key).values_list(key)[:1]
        return row[0][0] if row else ""

    def on_published(model):
        return model.objects.filter(activity__publication=Publication.PUBLISHED)

    organisation = biggest(on_published(Participation), "organisation__slug")
    area = biggest(on_published(Activity.areas.through), "area__slug")
    country = biggest(on_published(Activity.countries.through), "country_id")
    region = biggest(on_published(Activity.regions.through), "region__slug")
    agreement = biggest(published.filter(agreement__publication="published"), "agreement")
    bounds = published.order_by("pk").values_list("pk", flat=True)
    middle = (bounds.first() + bounds.last()) // 2
    # The first in the middle with every kind of link, so that its pages ask the same
    # questions at every size (an empty autocomplete, say, asks none).
    complete = published.filter(
        pk__gte=middle,
        agreement__isnull=False,
        regions__isnull=False,
        countries__isnull=False,
        areas__isnull=False,
    )
    activity = complete.order_by("pk").values_list("pk", flat=True)[0]

    def activities(**params):
        return "/activities/?" + urlencode(params)

    def cursor_at(row):
        """The cursor that opens the public list at `row` (0-based), as its links carry."""
        listed = published.newest_first()
        return Key.of(listed).encode(listed[row])

    deep_row = min(500_000, published.count() // 2)
    year_2011 = {"start_date_after": "2011-01-01", "start_date_before": "2011-12-31"}

    return [
        Scenario("home", "/"),
        Scenario("activities", "/activities/"),
        Scenario("organisations", "/organisations/"),
        Scenario("areas", "/areas/"),
        Scenario("agreements", "/agreements/"),
        Scenario("organisation (biggest)", f"/organisations/{organisation}/"),
        Scenario("area (biggest)", f"/areas/{area}/"),
        Scenario("agreement (biggest)", f"/agreements/{agreement}/"),
        Scenario("activity (typical)", f"/activities/{activity}/"),
        Scenario("filter organisation", activities(organisation=organisation)),
        Scenario("filter area", activities(area=area)),
        Scenario("filter role", activities(role="funding")),
        Scenario("filter status", activities(status="implementation")),
        Scenario("filter country", activities(country=country)),
        Scenario("filter region", activities(region=region)),
        Scenario("filter agreement", activities(agreement=agreement)),
        Scenario(
            "filter start dates",
            activities(start_date_after="2010-01-01", start_date_before="2012-12-31"),
        ),
        # Every activity list counts its facets (facets.py); these two count them all under
        # filters, within the time budget, and list one facet whole.
        Scenario("facets area+organisation", activities(area=area, organisation=organisation)),
        Scenario("facets status+year", activities(status="implementation", **year_2011)),
        Scenario("facet all organisations", activities(_facet="organisation")),
        Scenario("agreements kind", "/agreements/?kind=memorandum"),
        Scenario(
            "agreements signed year",
            "/agreements/?signed_on_after=2015-01-01&signed_on_before=2015-12-31",
        ),
        Scenario("search common", activities(q=COMMON_WORD)),
        Scenario("search rare", activities(q=RARE_WORD)),
        # A topic of generate_demo's, in the names of about one organisation in sixteen:
        # most of its matches come through participations.
        Scenario("search organisation names", activities(q="asylum")),
        Scenario("page 2", activities(page=2)),
        Scenario("page 200", activities(page=200)),
        Scenario("page 20000", activities(page=20_000)),
        # The cursor of row 500,000 (of the middle row in a smaller set).
        Scenario("deep cursor", activities(after=cursor_at(deep_row))),
        Scenario("sort title", activities(sort="title")),
        Scenario("sort -title", activities(sort="-title")),
        Scenario("sort start", activities(sort="start")),
        Scenario("api activities", "/api/activities/"),
        Scenario("api filter organisation", "/api" + activities(organisation=organisation)),
        Scenario("api search common", "/api" + activities(q=COMMON_WORD)),
        Scenario("api deep cursor", "/api" + activities(after=cursor_at(deep_row))),
        Scenario("api activity", f"/api/activities/{activity}/"),
        Scenario("api agreements", "/api/agreements/"),
        Scenario("api organisations", "/api/organisations/"),
        Scenario("api sources", "/api/sources/"),
        Scenario("feed activities", "/activities/feed/"),
        Scenario(
            "feed organisation", "/activities/feed/?" + urlencode({"organisation": organisation})
        ),
        Scenario("feed area", "/activities/feed/?" + urlencode({"area": area})),
        Scenario("feed agreements", "/agreements/feed/"),
        Scenario("admin activities", "/admin/cooperation/activity/", admin=True),
        Scenario(
            "admin activities search", f"/admin/cooperation/activity/?q={COMMON_WORD}", admin=True
        ),
        Scenario("admin organisations", "/admin/cooperation/organisation/", admin=True),
        Scenario("admin agreements", "/admin/cooperation/agreement/", admin=True),
        Scenario("admin citations", "/admin/cooperation/citation/", admin=True),
        Scenario(
            "admin activity form", f"/admin/cooperation/activity/{activity}/change/", admin=True
        ),
    ]


def export_scenarios():
    """The exports to time: each format of the whole activity list, and one filter."""
    from cooperation.models import Activity

    area = Activity.areas.through.objects.order_by("area__slug").values_list("area__slug")[:1]
    return [
        Scenario("export csv", "/activities.csv"),
        Scenario("export hxl", "/activities.hxl.csv"),
        Scenario("export iati", "/activities.iati.xml"),
        Scenario("export xlsx", "/activities.xlsx"),
        Scenario("export json", "/activities.json?page=all"),
        Scenario("export organisations csv", "/organisations.csv"),
        Scenario("export csv one area", "/activities.csv?" + urlencode({"area": area[0][0]})),
    ]


def count_rows(url, content):
    """
    The records in an export (untimed): rows of a CSV or sheet, activities of IATI XML,
    results of JSON.
    """
    import csv
    import io
    import json

    if url.split("?")[0].endswith(".xlsx"):
        import openpyxl

        sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).active
        return sum(1 for _ in sheet.iter_rows(values_only=True)) - 1
    if ".iati.xml" in url:
        return content.count(b"<iati-activity ")
    if url.split("?")[0].endswith(".json"):
        return len(json.loads(content)["results"])
    header_rows = 2 if ".hxl.csv" in url else 1
    return sum(1 for _ in csv.reader(io.StringIO(content.decode()))) - header_rows


def measure_export(scenario, client):
    """
    Time to the first byte and in all of one export, and the rows a second it wrote, after
    a warm-up that reads its first piece only (the pages' code and caches, loaded once).
    """
    warm_up = client.get(scenario.url)
    next(iter(warm_up.streaming_content if warm_up.streaming else [b""]), b"")
    warm_up.close()
    started = time.perf_counter()
    response = client.get(scenario.url)
    chunks = iter(response.streaming_content) if response.streaming else iter([response.content])
    pieces = [next(chunks, b"")]
    first_byte = time.perf_counter() - started
    pieces.extend(chunks)
    total = time.perf_counter() - started
    response.close()
    # Joined once the last piece has come, as a client writing them out would not.
    content = b"".join(pieces)
    rows = count_rows(scenario.url, content) if response.status_code == 200 else 0
    return {
        "name": scenario.name,
        "url": scenario.url,
        "status": response.status_code,
        "first_byte_ms": first_byte * 1000,
        "seconds": total,
        "rows": rows,
        "rows_per_second": rows / total if total else None,
        "bytes": len(content),
    }


EXPORT_COLUMNS = ["export", "status", "1st byte ms", "seconds", "rows", "rows/s", "MB"]
EXPORT_WIDTHS = [26, 6, 11, 8, 8, 9, 7]


def export_cells(row):
    return [
        row["name"],
        str(row["status"]),
        number(row["first_byte_ms"]),
        number(row["seconds"], 2),
        f"{row['rows']:,}",
        number(row["rows_per_second"], 0),
        number(row["bytes"] / 1e6, 1),
    ]


def aligned(values, widths):
    return "  ".join(
        value.ljust(width) if index == 0 else value.rjust(width)
        for index, (value, width) in enumerate(zip(values, widths, strict=True))
    )


class Deadline:
    """Stops the database work of a request that runs past `seconds`."""

    def __init__(self, seconds):
        from django.db import connection

        self.connection, self.seconds = connection, seconds

    def __enter__(self):
        self.connection.ensure_connection()
        if self.connection.vendor == "postgresql":
            with self.connection.cursor() as cursor:
                cursor.execute("SET statement_timeout = %s", [int(self.seconds * 1000)])
        elif self.connection.vendor == "sqlite":
            end = time.monotonic() + self.seconds
            self.connection.connection.set_progress_handler(
                lambda: int(time.monotonic() > end), 10_000
            )
        return self

    def __exit__(self, *exc):
        if self.connection.vendor == "postgresql":
            with self.connection.cursor() as cursor:
                cursor.execute("SET statement_timeout = 0")
        elif self.connection.vendor == "sqlite":
            self.connection.connection.set_progress_handler(None, 0)


def rows_query(response):
    """The SQL and parameters of the query that fetched a list page's rows, if a list."""
    from django.core.exceptions import EmptyResultSet

    context = response.context
    if context is None:
        return None
    for key in ["cl", "page_obj"]:
        try:
            found = context[key]
        except KeyError:
            continue
        rows = found.result_list if key == "cl" else found.object_list
        if hasattr(rows, "query"):
            try:
                return rows.query.sql_with_params()
            except EmptyResultSet:  # A filter that matches nothing, without asking.
                return None
    return None


def time_floor(sql, params, budget):
    from django.db import connection

    samples = []
    with Deadline(budget):
        for _ in range(5):
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                cursor.fetchall()
            samples.append((time.perf_counter() - started) * 1000)
    return sorted(samples)[len(samples) // 2]


def measure(scenario, clients, requests, budget, cold=False):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import (
        CaptureQueriesContext,
        setup_test_environment,
        teardown_test_environment,
    )

    client = clients["admin" if scenario.admin else "public"]
    result = Result(scenario.name, scenario.url, scenario.admin)
    started = time.monotonic()
    # The warm-up records the queries and the template context; the timed requests do not.
    setup_test_environment()
    try:
        with Deadline(budget), CaptureQueriesContext(connection) as queries:
            response = client.get(scenario.url)
            first = (time.monotonic() - started) * 1000
    except Exception as error:  # A stopped query, or a page that fails: report, go on.
        result.status = f"{type(error).__name__}"
        return result
    finally:
        teardown_test_environment()
    result.status, result.queries, result.bytes = (
        response.status_code,
        len(queries),
        len(response.content),
    )
    query = rows_query(response)
    for _ in range(requests):
        left = budget - (time.monotonic() - started)
        if left <= 0:
            break
        if cold:
            cache.clear()
        begun = time.perf_counter()
        try:
            with Deadline(left):
                client.get(scenario.url)
        except Exception:
            break
        result.samples.append((time.perf_counter() - begun) * 1000)
    if not result.samples:
        result.samples = [first]  # Too slow to repeat: the warm-up is the one sample.
    if query and response.status_code == 200:
        with contextlib.suppress(Exception):  # A floor past the budget stays blank.
            result.floor_ms = time_floor(*query, budget)
    return result


def logged_in_admin():
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    return client


def wanted(only, name):
    """
    Whether --only chooses the scenario `name`: any of its comma-separated parts, a part
    within the name or, written =name, the whole name.
    """
    parts = [part for part in (only or "").split(",") if part]
    return not parts or any(
        part[1:] == name if part.startswith("=") else part in name for part in parts
    )


def count_kept_cells(without):
    """
    The number of activities whose kept cells an export reads (None on SQLite, which keeps
    none). `without`: none, as their layout no longer matches the one looked for.
    """
    from django.db import connection
    from django.db.models import Exists

    from cooperation import kept
    from cooperation.models import Activity

    if connection.vendor != "postgresql":
        return None
    if without:
        kept.layout = lambda: "(none: --without-kept-cells)"
    return Activity.objects.filter(Exists(kept.still_true_rows("default"))).count()


def run(args):
    from django.db import connection
    from django.test import Client, override_settings

    generated = prepare(args.activities, args.seed)
    from cooperation import parallel
    from cooperation.models import Activity

    if args.export_connections:
        parallel.WIDTH = args.export_connections
    kept_cells = count_kept_cells(args.without_kept_cells)

    plain_static = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    results = []
    with override_settings(STORAGES=plain_static):
        clients = {"public": Client(), "admin": logged_in_admin()}
        for scenario in scenarios():
            if not wanted(args.only, scenario.name):
                continue
            result = measure(scenario, clients, args.requests, args.budget, args.cold)
            results.append(result)
            print(format_row(result), flush=True)
        exported = []
        # --check compares query counts of pages; exports are timed only.
        chosen = [] if args.check_run else export_scenarios()
        chosen = [s for s in chosen if wanted(args.only, s.name)]
        if chosen:
            if kept_cells is not None:
                print(f"\nKept cells still true: {kept_cells:,} activities.")
            print("\n" + aligned(EXPORT_COLUMNS, EXPORT_WIDTHS))
        for scenario in chosen:
            exported.append(measure_export(scenario, clients["public"]))
            print(aligned(export_cells(exported[-1]), EXPORT_WIDTHS), flush=True)
    return {
        "vendor": connection.vendor,
        "cold": args.cold,
        "activities": Activity.objects.count(),
        "generated_seconds": generated,
        "requests": args.requests,
        "export_connections": parallel.WIDTH,
        "kept_cells": kept_cells,
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "results": [result.row() for result in results],
        "exports": exported,
    }


COLUMNS = ["scenario", "status", "p50 ms", "p95 ms", "n", "queries", "KB", "floor ms", "x floor"]
WIDTHS = [26, 6, 9, 9, 3, 7, 7, 9, 8]


def number(value, digits=1):
    return "" if value is None else f"{value:,.{digits}f}"


def cells(result):
    return [
        result.name,
        str(result.status),
        number(result.p50),
        number(result.p95),
        str(len(result.samples)),
        "" if result.queries is None else str(result.queries),
        number(result.bytes / 1000 if result.bytes is not None else None),
        number(result.floor_ms, 2),
        number(result.ratio),
    ]


def format_row(result):
    return aligned(cells(result), WIDTHS)


def markdown(report):
    lines = [
        f"{report['vendor']}, {report['activities']:,} activities, "
        f"{report['requests']} requests a page, {report['when']}",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(COLUMNS) - 1)) + "|",
    ]
    for row in report["results"]:
        result = Result(**{key: row[key] for key in Result.__dataclass_fields__})
        lines.append("| " + " | ".join(cells(result)) + " |")
    if report.get("exports"):
        if report.get("kept_cells") is not None:
            lines += ["", f"Kept cells still true: {report['kept_cells']:,} activities."]
        lines += ["", "| " + " | ".join(EXPORT_COLUMNS) + " |"]
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(EXPORT_COLUMNS) - 1)) + "|")
        lines += ["| " + " | ".join(export_cells(row)) + " |" for row in report["exports"]]
    return "\n".join(lines) + "\n"


def write(report, output):
    output.parent.mkdir(parents=True, exist_ok=True)
    output.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    output.with_suffix(".md").write_text(markdown(report))
    print(f"Wrote {output.with_suffix('.json')} and {output.with_suffix('.md')}.")


def database_for_check(size):
    """A DATABASE_URL for one --check size, and how to remove it afterwards."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        path = Path(tempfile.mkdtemp(prefix="bench-check-")) / f"demo-{size}.sqlite3"
        return f"sqlite:///{path}", lambda: [p.unlink() for p in path.parent.glob("*")]
    import psycopg

    parts = urlsplit(base)
    name = f"{parts.path.lstrip('/') or 'postgres'}_bench_check_{size}"
    admin_url = urlunsplit(parts._replace(path="/postgres"))

    def execute(sql):
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(sql)

    execute(f'DROP DATABASE IF EXISTS "{name}"')
    execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}")), lambda: execute(
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    )


def check(args):
    # Stopped from outside, still drop the databases made for the check (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    reports = []
    for size in args.check_sizes:
        url, remove = database_for_check(size)
        report_path = Path(tempfile.mkdtemp(prefix="bench-check-")) / "report.json"
        try:
            command = [
                sys.executable,
                __file__,
                f"--activities={size}",
                f"--seed={args.seed}",
                f"--requests={args.requests}",
                f"--budget={args.budget}",
                f"--json={report_path}",
                "--check-run",
            ]
            print(f"\n== {size} activities", flush=True)
            # Facets counted whatever the machine's load, so that their queries are all made.
            env = {**os.environ, "DATABASE_URL": url, "DJANGO_FACET_TIME_LIMIT_MS": "10000"}
            subprocess.run(command, env=env, check=True)
            reports.append(json.loads(report_path.read_text()))
        finally:
            remove()
    small, large = ({row["name"]: row for row in report["results"]} for report in reports)
    failures = []
    for name, row in small.items():
        other = large.get(name, {})
        if row["queries"] is None or other.get("queries") is None:
            stopped = row if row["queries"] is None else other
            failures.append(f"{name}: no answer ({stopped['status']}) within the budget")
        elif row["queries"] != other.get("queries"):
            failures.append(
                f"{name}: {row['queries']} queries at {args.check_sizes[0]} activities, "
                f"{other.get('queries')} at {args.check_sizes[1]}"
            )
        for each in [row, other]:
            if not each.get("admin") and (each.get("bytes") or 0) > PAGE_LIMIT:
                failures.append(f"{name}: {each['bytes']:,} bytes, over {PAGE_LIMIT:,}")
    print()
    for failure in failures:
        print(f"FAIL {failure}")
    if not failures:
        print(f"Query counts identical at {' and '.join(map(str, args.check_sizes))} activities;")
        print(f"every public page under {PAGE_LIMIT:,} bytes.")
    return 1 if failures else 0


def main():
    args = parse()
    if args.check:
        # Query counts and sizes come from the warm-up request alone: no timed requests, and
        # a page whose SQL runs past CHECK_BUDGET seconds at these sizes fails the check.
        args.requests, args.budget = 0, min(args.budget, CHECK_BUDGET)
        sys.exit(check(args))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{OUT / f'demo-{args.activities}.sqlite3'}")
    OUT.mkdir(parents=True, exist_ok=True)
    setup_django()
    print(aligned(COLUMNS, WIDTHS))
    report = run(args)
    if args.json:
        args.json.write_text(json.dumps(report))
        return
    output = args.output or OUT / f"bench-{report['vendor']}-{args.activities}"
    write(report, output)


if __name__ == "__main__":
    main()
