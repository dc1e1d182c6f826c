"""
Several editors saving at once through the real admin, served by gunicorn.

    .venv/bin/python tests/load/concurrent_saves.py [--writers 8] [--saves 25]
        [--mode own|shared|both] [--workers 4] [--retries 50]
        [--stock-sqlite] [--allow-existing-rows]

The database is a temporary SQLite file, or the one DATABASE_URL names. A
PostgreSQL database that does not exist yet is created and dropped afterwards;
a database that already holds rows of the tracker's tables (or user accounts)
is refused unless --allow-existing-rows is given. The script migrates it,
collects the static files into a temporary folder (DEBUG is off, as in
production, so the admin's pages need the static manifest), creates one
superuser per writer and the activities to edit, and starts gunicorn on a free
port of 127.0.0.1.

Each writer logs in at /admin/login/, then repeatedly loads an activity's
change page, reads every field of the form the way a browser submits it
(CSRF token, selects, text areas, the inline formsets and their management
forms), changes the description and posts the form back.

own     each writer edits its own activity: only lock contention. Afterwards each
        activity must hold the last value its writer saved.
shared  all writers edit one activity, each appending a unique token to its
        description. A post answered by the form again (200, with an error)
        is a refused save: the writer reloads the page and tries again, at
        most --retries times. Afterwards every token whose save was answered
        with a redirect must be in the description; a missing one is a lost
        write.

A 5xx answer, a connection error, any other unexpected answer and a save
still refused after --retries attempts count as errors. The exit status is 1
when there are errors or lost writes, 2 when the database is refused.

--stock-sqlite runs the app with Django's default SQLite options instead of
the ones config/settings.py sets, to compare.
"""

import argparse
import collections
import http.client
import http.cookiejar
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
SETTINGS_MODULE = "concurrent_saves_settings"
REQUEST_TIMEOUT = 60


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--writers", type=int, default=8, help="concurrent editors (8)")
    parser.add_argument("--saves", type=int, default=25, help="saves per editor and mode (25)")
    parser.add_argument("--mode", choices=["own", "shared", "both"], default="both")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4)")
    parser.add_argument("--retries", type=int, default=50, help="reloads after a refused save (50)")
    parser.add_argument(
        "--stock-sqlite",
        action="store_true",
        help="Django's default SQLite options instead of the project's",
    )
    parser.add_argument(
        "--allow-existing-rows",
        action="store_true",
        help="use a database that already holds rows",
    )
    return parser.parse_args()


# Database


class RefusedDatabase(Exception):
    pass


def postgresql_params(database_url):
    import dj_database_url

    config = dj_database_url.parse(database_url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        return None
    params = {
        "host": config["HOST"],
        "port": config["PORT"],
        "user": config["USER"],
        "password": config["PASSWORD"],
    }
    return config["NAME"], {key: value for key, value in params.items() if value}


def create_postgresql_database(database_url):
    """Create the PostgreSQL database DATABASE_URL names if it is missing; its name if so."""
    import psycopg
    from psycopg import sql

    name, params = postgresql_params(database_url)
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return None
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def drop_postgresql_database(database_url):
    import psycopg
    from psycopg import sql

    name, params = postgresql_params(database_url)
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as connection:
        connection.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def write_settings(folder, stock_sqlite):
    """A settings module that is the project's, with static files collected into `folder`."""
    lines = [
        "from config.settings import *  # noqa: F403",
        "",
        f"STATIC_ROOT = {str(folder / 'static')!r}",
    ]
    if stock_sqlite:
        lines.append('DATABASES["default"]["OPTIONS"] = {}  # noqa: F405')
    (folder / f"{SETTINGS_MODULE}.py").write_text("\n".join(lines) + "\n")


def refuse_rows(allow_existing_rows):
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.db import connection

    tables = set(connection.introspection.table_names())
    models = [*apps.get_app_config("cooperation").get_models(), get_user_model()]
    holding = [m._meta.label for m in models if m._meta.db_table in tables and m.objects.exists()]
    if holding and not allow_existing_rows:
        raise RefusedDatabase(
            f"the database already holds rows ({', '.join(holding)}); "
            "use a fresh database or pass --allow-existing-rows"
        )


@dataclass
class Fixture:
    passwords: dict
    own: list
    shared: int


def create_records(writers, run):
    """One superuser per writer, an activity per writer and one shared by all."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from cooperation.models import (
        Activity,
        Area,
        Citation,
        Organisation,
        OrganisationKind,
        Participation,
        Region,
        Source,
    )

    organisation = Organisation.objects.create(
        name=f"Load test organisation {run}",
        slug=f"load-{run}",
        kind=OrganisationKind.INTERNATIONAL,
    )
    area = Area.objects.create(name=f"Load test area {run}", slug=f"load-{run}")
    region = Region.objects.create(name=f"Load test region {run}", slug=f"load-{run}")
    quote = "The parties will work together."
    source = Source.objects.create(
        title=f"Load test source {run}", slug=f"load-{run}", text=f"Preamble. {quote} The end."
    )

    def activity(slug):
        record = Activity.objects.create(title=f"Activity {slug}", slug=slug, description="")
        record.countries.set(["FR", "DE"])
        record.areas.set([area])
        record.regions.set([region])
        Participation.objects.create(activity=record, organisation=organisation)
        Citation.objects.create(source=source, quote=quote, activity=record)
        return record.pk

    User = get_user_model()
    password = secrets.token_urlsafe(16)
    hashed = make_password(password)
    passwords = {}
    for number in range(writers):
        username = f"load-{run}-writer-{number}"
        User.objects.create(username=username, password=hashed, is_staff=True, is_superuser=True)
        passwords[username] = password
    return Fixture(
        passwords=passwords,
        own=[activity(f"load-{run}-own-{number}") for number in range(writers)],
        shared=activity(f"load-{run}-shared"),
    )


# gunicorn


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Gunicorn:
    def __init__(self, folder, database_url, workers, secret_key=None):
        self.port = free_port()
        self.log_path = folder / "gunicorn.log"
        self.base = f"http://{HOST}:{self.port}"
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("DJANGO_") and key != "DATABASE_URL"
        }
        environment.update(
            DATABASE_URL=database_url,
            DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
            DJANGO_SECRET_KEY=secret_key or secrets.token_urlsafe(50),
            DJANGO_DEBUG="0",
            # Plain HTTP on 127.0.0.1: no redirect to HTTPS, cookies without Secure.
            DJANGO_SECURE="0",
            DJANGO_ALLOWED_HOSTS=HOST,
            # Every visitor of a load test comes from 127.0.0.1: the API's per-address
            # throttle would answer 429 to what stands for many people.
            DJANGO_API_THROTTLE_RATE="1000000/minute",
            # One cache for all workers, as the README's production recipe sets it.
            DJANGO_CACHE_URL=f"file://{folder.resolve() / 'cache'}",
            PYTHONPATH=os.pathsep.join([str(folder), str(PROJECT)]),
        )
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            f"--bind={HOST}:{self.port}",
            f"--workers={workers}",
            "--graceful-timeout=5",
            f"--chdir={PROJECT}",
        ]
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            command,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until_ready(self, seconds=30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.base}/admin/login/", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (OSError, http.client.HTTPException):
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer:\n{self.log_path.read_text()[-3000:]}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
        self.log.close()

    def exceptions(self):
        """How often each exception appears in the server's log (one JSON record a line)."""
        # A traceback's last line is the last exception of its chain, not those it came from.
        return collections.Counter(
            record["exception"].splitlines()[-1]
            for line in self.log_path.read_text().splitlines()
            if line.startswith("{") and "exception" in (record := json.loads(line))
        )


# A browser


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class FormFields(HTMLParser):
    """The name and value pairs a browser submits from the form with the id `form_id`."""

    def __init__(self, form_id):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.found = False
        self.fields = []
        self.buttons = {}
        self.select = None
        self.option = None
        self.textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == self.form_id:
            self.inside = self.found = True
        if not self.inside or "disabled" in attrs:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text").lower()
            if kind == "submit":
                self.buttons[name] = attrs.get("value", "")
            elif kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self.fields.append((name, attrs.get("value", "on")))
            elif kind not in {"button", "image", "reset", "file"}:
                self.fields.append((name, attrs.get("value", "")))
        elif tag == "select" and name:
            self.select = {"name": name, "multiple": "multiple" in attrs, "options": []}
        elif tag == "option" and self.select is not None:
            self.end_option()
            self.option = {"value": attrs.get("value"), "selected": "selected" in attrs}
            self.option["text"] = []
        elif tag == "textarea" and name:
            self.textarea = {"name": name, "text": []}

    def handle_data(self, data):
        if self.option is not None:
            self.option["text"].append(data)
        elif self.textarea is not None:
            self.textarea["text"].append(data)

    def handle_endtag(self, tag):
        if tag == "option":
            self.end_option()
        elif tag == "select" and self.select is not None:
            self.end_option()
            options = self.select["options"]
            chosen = [value for value, selected in options if selected]
            if not chosen and options and not self.select["multiple"]:
                chosen = [options[0][0]]
            self.fields.extend((self.select["name"], value) for value in chosen)
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            text = "".join(self.textarea["text"])
            # Browsers drop the newline that follows <textarea>, as Django's widget writes one.
            text = text.removeprefix("\r\n") if text.startswith("\r\n") else text.removeprefix("\n")
            self.fields.append((self.textarea["name"], text))
            self.textarea = None
        elif tag == "form" and self.inside:
            self.inside = False

    def end_option(self):
        if self.option is not None:
            text = "".join(self.option["text"]).strip()
            value = self.option["value"] if self.option["value"] is not None else text
            self.select["options"].append((value, self.option["selected"]))
            self.option = None


def form_fields(html, form_id):
    parser = FormFields(form_id)
    parser.feed(html)
    parser.close()
    if not parser.found:
        raise Unexpected(f"no form #{form_id} in the page")
    return parser


class Unexpected(Exception):
    """An answer a browser would show the editor as a failure."""


class Browser:
    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )

    def request(self, path, fields=None):
        data = urllib.parse.urlencode(fields).encode() if fields is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=REQUEST_TIMEOUT) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read().decode(errors="replace")
        except (OSError, http.client.HTTPException) as error:
            raise Unexpected(f"{type(error).__name__}: {error}") from error

    def get_form(self, path, form_id):
        status, html = self.request(path)
        if status != 200:
            raise Unexpected(f"GET {status}")
        return form_fields(html, form_id)

    def log_in(self, username, password):
        form = self.get_form("/admin/login/", "login-form")
        fields = dict(form.fields) | {"username": username, "password": password}
        status, _ = self.request("/admin/login/?next=/admin/", list(fields.items()))
        if status != 302:
            raise Unexpected(f"log-in answered {status}")


# Writers


@dataclass
class Tally:
    #: (value, saved) for each save, in order; saved is False after an error.
    attempts: list = field(default_factory=list)
    errors: collections.Counter = field(default_factory=collections.Counter)
    refused: int = 0

    @property
    def saved(self):
        return [value for value, saved in self.attempts if saved]

    def possible_last_values(self, initial):
        """The last saved value, and those tried after it: a failed save may have landed."""
        values = {initial}
        for value, saved in self.attempts:
            values = {value} if saved else values | {value}
        return values


def save(browser, path, change, tally, retries):
    """Load the change form, change it and post it; reload and retry after a refusal."""
    for _ in range(retries + 1):
        form = browser.get_form(path, "activity_form")
        fields = change(form.fields) + [("_save", form.buttons.get("_save", "Save"))]
        status, html = browser.request(path, fields)
        if status == 302:
            return
        if status == 200 and "errornote" in html:
            tally.refused += 1
            continue
        raise Unexpected(f"POST {status}")
    raise Unexpected(f"still refused after {retries} reloads")


def replace(fields, name, value):
    return [(key, value if key == name else old) for key, old in fields]


def description(fields):
    return next(value for key, value in fields if key == "description")


def writer(base, username, password, jobs, start, tally, retries):
    browser = Browser(base)
    try:
        browser.log_in(username, password)
    except Unexpected as error:
        tally.errors[f"log-in: {error}"] += 1
        jobs = []
    start.wait()
    for path, change, value in jobs:
        try:
            save(browser, path, change, tally, retries)
        except Unexpected as error:
            tally.errors[str(error)] += 1
            tally.attempts.append((value, False))
        else:
            tally.attempts.append((value, True))


def own_jobs(number, pk, saves):
    path = f"/admin/cooperation/activity/{pk}/change/"
    for index in range(saves):
        value = f"writer {number}, save {index}"
        yield path, lambda fields, value=value: replace(fields, "description", value), value


def shared_jobs(number, pk, saves):
    path = f"/admin/cooperation/activity/{pk}/change/"
    for index in range(saves):
        token = f"[w{number}-s{index}]"

        def append(fields, token=token):
            return replace(fields, "description", f"{description(fields)} {token}".strip())

        yield path, append, token


def everything_but_the_description(pk):
    """What a faithful round trip of the change form leaves as it was."""
    from cooperation.models import Activity

    activity = Activity.objects.get(pk=pk)
    return (
        activity.title,
        activity.slug,
        activity.status,
        activity.publication,
        list(activity.countries.values_list("pk", flat=True)),
        list(activity.areas.values_list("pk", flat=True)),
        list(activity.regions.values_list("pk", flat=True)),
        list(activity.participations.values_list("pk", "organisation", "role")),
        list(activity.citations.values_list("pk", "source", "quote", "note")),
    )


def run_mode(mode, args, fixture, base):
    from cooperation.models import Activity

    edited = fixture.own if mode == "own" else [fixture.shared]
    before = [everything_but_the_description(pk) for pk in edited]
    tallies = [Tally() for _ in range(args.writers)]
    start = threading.Barrier(args.writers + 1)
    threads = []
    for number, (username, password) in enumerate(fixture.passwords.items()):
        if mode == "own":
            jobs = list(own_jobs(number, fixture.own[number], args.saves))
        else:
            jobs = list(shared_jobs(number, fixture.shared, args.saves))
        thread = threading.Thread(
            target=writer,
            args=(base, username, password, jobs, start, tallies[number], args.retries),
        )
        thread.start()
        threads.append(thread)
    start.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - began

    if mode == "own":
        lost = sum(
            Activity.objects.get(pk=pk).description not in tally.possible_last_values("")
            for pk, tally in zip(fixture.own, tallies, strict=True)
        )
    else:
        text = Activity.objects.get(pk=fixture.shared).description
        lost = sum(token not in text for tally in tallies for token in tally.saved)
    messages = sum((tally.errors for tally in tallies), collections.Counter())
    changed = sum(
        everything_but_the_description(pk) != fields
        for pk, fields in zip(edited, before, strict=True)
    )
    if changed:
        messages["an edited activity changed in more than its description"] = changed
    return {
        "mode": mode,
        "saves": sum(len(tally.saved) for tally in tallies),
        "errors": sum(messages.values()),
        "refused": sum(tally.refused for tally in tallies),
        "lost": lost,
        "seconds": seconds,
        "messages": messages,
    }


# Report


def print_report(engine, writers, results, exceptions):
    header = ["mode", "engine", "writers", "saves", "errors", "refused", "lost", "seconds"]
    header.append("saves/s")
    rows = [
        [
            result["mode"],
            engine,
            str(writers),
            str(result["saves"]),
            str(result["errors"]),
            str(result["refused"]),
            str(result["lost"]),
            f"{result['seconds']:.1f}",
            f"{result['saves'] / result['seconds']:.1f}",
        ]
        for result in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print()
    for row in [header, *rows]:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
        cells += [cell.rjust(width) for cell, width in zip(row[2:], widths[2:], strict=True)]
        print("  ".join(cells))
    print(
        "\nsaves: answered with a redirect; errors: 5xx, connection errors, other unexpected "
        "answers;\nrefused: answered with the form and an error, then reloaded and retried; "
        "lost: saved but not in the database."
    )
    for result in results:
        for message, count in result["messages"].most_common(5):
            print(f"{result['mode']}: {count} x {message}")
    for line, count in exceptions.most_common(5):
        print(f"server log: {count} x {line}")
    for result in results:
        if result["mode"] == "shared" and result["lost"] and not result["refused"]:
            print(
                f"\nshared: {result['lost']} of {result['saves']} saves were answered as saved "
                "but their token is gone: the admin accepted forms loaded before another "
                "editor's save and overwrote it: the admin's check for a stale save "
                "(the form's opened_version) did not refuse them."
            )


def measure(args, folder, database_url):
    """Prepare the database, serve the app, run the modes; results and the server's errors."""
    created = gunicorn = None
    try:
        if postgresql_params(database_url):
            if args.stock_sqlite:
                raise RefusedDatabase("--stock-sqlite needs a SQLite database")
            created = create_postgresql_database(database_url)
        write_settings(folder, args.stock_sqlite)
        os.environ.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE=SETTINGS_MODULE)
        sys.path[:0] = [str(folder), str(PROJECT)]

        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        refuse_rows(args.allow_existing_rows)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        fixture = create_records(args.writers, secrets.token_hex(3))
        engine = connection.vendor + (" (stock options)" if args.stock_sqlite else "")
        connection.close()

        gunicorn = Gunicorn(folder, database_url, args.workers)
        gunicorn.wait_until_ready()
        modes = ["own", "shared"] if args.mode == "both" else [args.mode]
        print(
            f"{args.writers} writers x {args.saves} saves, {args.workers} gunicorn workers, "
            f"{engine}, modes: {', '.join(modes)}",
            flush=True,
        )
        results = [run_mode(mode, args, fixture, gunicorn.base) for mode in modes]
        connection.close()
    finally:
        if gunicorn:
            gunicorn.stop()
        if created:
            drop_postgresql_database(database_url)
    return engine, results, gunicorn.exceptions()


def main():
    args = parse_args()
    folder = Path(tempfile.mkdtemp(prefix="concurrent-saves-"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'db.sqlite3'}"
    try:
        engine, results, exceptions = measure(args, folder, database_url)
    except RefusedDatabase as error:
        print(f"refused: {error}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print_report(engine, args.writers, results, exceptions)
    return 1 if any(result["errors"] or result["lost"] for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
