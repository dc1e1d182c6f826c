"""A database that is down, slow or locked gives the 503 page, logged; other errors stay 500."""

import json
import os
import socket
import sqlite3
import time

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import ProgrammingError, connection
from django.db.utils import OperationalError
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertTemplateUsed

from config.middleware import RETRY_AFTER_SECONDS
from cooperation import views

from .test_settings import STRONG_KEY, python

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a PostgreSQL server is needed"
)

# Requests a few pages as a load balancer and a visitor would, in a fresh interpreter with
# the settings built from its environment; prints what each got, then the log on stderr.
VISIT = """
import json
import os
import django
django.setup()
from django.test import Client
from django.test.utils import override_settings

unhashed = "django.contrib.staticfiles.storage.StaticFilesStorage"
with override_settings(STORAGES={"staticfiles": {"BACKEND": unhashed}}):
    client = Client(raise_request_exception=False, HTTP_HOST="example.org")
    answers = {}
    for path in ["/", "/healthz", "/readyz"]:
        response = client.get(path)
        answers[path] = [response.status_code, response.get("Retry-After"), response.text]
print(json.dumps(answers))
"""


def visit(database_url, **env):
    """The pages' answers, the JSON log records and the seconds it took, with `database_url`."""
    started = time.monotonic()
    result = python(
        "-c",
        VISIT,
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY=STRONG_KEY,
        DJANGO_ALLOWED_HOSTS="example.org",
        DJANGO_SECURE="0",
        **env,
    )
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    return json.loads(result.stdout), records, seconds


def assert_unavailable(answers, records, reason):
    status, retry_after, text = answers["/"]
    assert status == 503
    assert retry_after == str(RETRY_AFTER_SECONDS)
    assert "Temporarily unavailable" in text
    assert answers["/healthz"] == [200, None, "ok"]
    assert answers["/readyz"] == [503, None, "unavailable"]
    [unavailable] = [record for record in records if record["logger"] == "config.middleware"]
    assert reason in unavailable["message"]
    assert unavailable["path"] == "/"
    assert unavailable["status"] == 503


def test_database_refusing_connections_gives_503():
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens on the port now: the connection is refused

    answers, records, _ = visit(f"postgres://tracker@127.0.0.1:{port}/tracker")

    assert_unavailable(answers, records, "Connection refused")


def test_database_that_never_answers_gives_503_after_the_connect_timeout():
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        port = silent.getsockname()[1]
        answers, records, seconds = visit(
            f"postgres://tracker@127.0.0.1:{port}/tracker", DJANGO_DB_CONNECT_TIMEOUT="2"
        )

    assert_unavailable(answers, records, "timeout")
    # Two pages each wait once for the connection (libpq's shortest wait is 2 s).
    assert seconds < 15


def test_missing_sqlite_database_gives_503(tmp_path):
    answers, records, _ = visit(f"sqlite:///{tmp_path / 'missing' / 'db.sqlite3'}")

    assert_unavailable(answers, records, "unable to open database file")


def test_locked_sqlite_database_gives_503(tmp_path):
    path = tmp_path / "db.sqlite3"
    with sqlite3.connect(path, isolation_level=None) as holder:
        holder.execute("BEGIN EXCLUSIVE")
        answers, records, _ = visit(f"sqlite:///{path}?timeout=1")
        holder.execute("ROLLBACK")

    assert_unavailable(answers, records, "database is locked")


def fail_with(error):
    def fail(*args, **kwargs):
        raise error

    return fail


def test_database_error_in_a_view_gives_the_site_503_page(client, monkeypatch, caplog):
    monkeypatch.setattr(views, "public_totals", fail_with(OperationalError("database is locked")))

    response = client.get(reverse("cooperation:home"))

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assertTemplateUsed(response, "503.html")
    assertTemplateUsed(response, "cooperation/base.html")
    assertContains(response, "Temporarily unavailable", status_code=503)
    [record] = [record for record in caplog.records if record.name == "config.middleware"]
    assert record.getMessage() == "Database unavailable: OperationalError: database is locked"


def test_database_error_outside_a_view_gives_the_site_503_page(monkeypatch, caplog):
    # The session middleware saves the session as the response goes out, after the view.
    monkeypatch.setattr(
        SessionMiddleware, "process_response", fail_with(OperationalError("database is locked"))
    )

    response = Client(raise_request_exception=False).get(reverse("cooperation:home"))

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assertContains(response, "Temporarily unavailable", status_code=503)
    [record] = [record for record in caplog.records if record.name == "config.middleware"]
    assert record.getMessage() == "Database unavailable: OperationalError: database is locked"


def test_other_errors_outside_a_view_stay_server_errors(monkeypatch):
    monkeypatch.setattr(
        SessionMiddleware, "process_response", fail_with(ProgrammingError("no such column"))
    )

    response = Client(raise_request_exception=False).get(reverse("cooperation:home"))

    assert response.status_code == 500
    assert "Retry-After" not in response


def test_other_database_errors_stay_server_errors(monkeypatch):
    monkeypatch.setattr(views, "public_totals", fail_with(ProgrammingError("no such column")))

    response = Client(raise_request_exception=False).get(reverse("cooperation:home"))

    assert response.status_code == 500
    assert "Retry-After" not in response


def test_503_page_renders_without_the_database(client, monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(views, "public_totals", fail_with(OperationalError("gone")))

    with django_assert_num_queries(0):
        response = client.get(reverse("cooperation:home"))

    assert response.status_code == 503


@on_postgresql
def test_statement_timeout_cancels_a_slow_query_with_503(client, monkeypatch, caplog):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 50")  # until the test's rollback

    def slow_totals():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(5)")

    monkeypatch.setattr(views, "public_totals", slow_totals)
    started = time.monotonic()

    response = client.get(reverse("cooperation:home"))

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert time.monotonic() - started < 4
    [record] = [record for record in caplog.records if record.name == "config.middleware"]
    assert record.getMessage() == (
        "Database unavailable: QueryCanceled: canceling statement due to statement timeout"
    )


SHOW_STATEMENT_TIMEOUT = (
    "from django.db import connection; cursor = connection.cursor(); "
    "cursor.execute('SHOW statement_timeout'); print(cursor.fetchone()[0])"
)


def statement_timeout(*args, **env):
    """PostgreSQL's statement_timeout as seen by `python *args` run on this database."""
    database_url = os.environ["DATABASE_URL"]
    result = python(*args, DATABASE_URL=database_url, DJANGO_SECRET_KEY=STRONG_KEY, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@on_postgresql
@pytest.mark.parametrize(
    ("env", "timeout"),
    [({}, "10s"), ({"DJANGO_DB_STATEMENT_TIMEOUT": "1500"}, "1500ms")],
)
def test_web_application_connections_have_the_statement_timeout(env, timeout):
    code = f"import config.wsgi; {SHOW_STATEMENT_TIMEOUT}"

    assert statement_timeout("-c", code, **env) == timeout


@on_postgresql
def test_management_commands_run_without_statement_timeout():
    command = ["manage.py", "shell", "--no-imports", "-c", SHOW_STATEMENT_TIMEOUT]

    assert statement_timeout(*command, DJANGO_DB_STATEMENT_TIMEOUT="1500") == "0"
