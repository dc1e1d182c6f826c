"""Server errors, 503s and failed logins are logged as JSON with path and request id only."""

import json
import logging

import pytest
from django.db.utils import OperationalError
from django.test import Client
from django.urls import reverse

from config.logs import JsonFormatter
from cooperation import views

from .test_database_unavailable import fail_with

pytestmark = pytest.mark.django_db

USERNAME = "ana.moreau"
PASSWORD = "correct-horse-battery-staple"
WRONG = "Wrong-guess-71"
ADDRESS = "203.0.113.9"
#: Searched for, and never logged: a word no file path or traceback holds.
QUERY_WORD = "zqxjkvbw"


@pytest.fixture
def log(caplog):
    """The log as the console handler writes it: one JSON object a line, parsed."""
    caplog.set_level(logging.INFO)
    caplog.handler.setFormatter(JsonFormatter())

    def records():
        return [json.loads(line) for line in caplog.text.splitlines()]

    return records


def test_server_error_logged_with_path_and_request_id(log, monkeypatch):
    monkeypatch.setattr(views, "public_totals", fail_with(RuntimeError("boom")))

    response = Client(raise_request_exception=False).get(f"/?q={QUERY_WORD}")

    assert response.status_code == 500
    [record] = [record for record in log() if record["logger"] == "django.request"]
    assert record["level"] == "ERROR"
    assert record["status"] == 500
    assert record["path"] == "/"
    assert record["request_id"] == response["X-Request-ID"]
    assert "RuntimeError: boom" in record["exception"]
    assert QUERY_WORD not in json.dumps(log())  # no query string


def test_email_address_in_an_error_is_not_logged(log, monkeypatch):
    duplicate = ValueError("Key (email)=(ana.moreau@example.org) already exists.")
    monkeypatch.setattr(views, "public_totals", fail_with(duplicate))

    Client(raise_request_exception=False).get("/")

    [record] = [record for record in log() if record["logger"] == "django.request"]
    assert "Key (email)=([e-mail address]) already exists." in record["exception"]
    assert "@" not in json.dumps(log())


def test_503_logged_with_path_request_id_and_reason(log, client, monkeypatch):
    monkeypatch.setattr(views, "public_totals", fail_with(OperationalError("database is locked")))

    response = client.get(f"/?q={QUERY_WORD}")

    assert response.status_code == 503
    records = [record for record in log() if record.get("status") == 503]
    assert [record["logger"] for record in records] == ["config.middleware", "django.request"]
    for record in records:
        assert record["path"] == "/"
        assert record["request_id"] == response["X-Request-ID"]
    assert records[0]["message"] == "Database unavailable: OperationalError: database is locked"
    assert QUERY_WORD not in json.dumps(log())


def test_failed_login_logged_without_username_address_or_password(log, django_user_model):
    django_user_model.objects.create_user(USERNAME, password=PASSWORD, is_staff=True)

    response = Client().post(
        reverse("admin:login"), {"username": USERNAME, "password": WRONG}, REMOTE_ADDR=ADDRESS
    )

    assert response.status_code == 200  # the form again, with its error
    [record] = [record for record in log() if record["message"] == "Login failed"]
    assert record["level"] == "WARNING"
    assert record["path"] == reverse("admin:login")
    assert record["request_id"] == response["X-Request-ID"]
    everything = json.dumps(log())
    assert "AXES" in everything  # axes logged the failure too, masked
    for personal in [USERNAME, ADDRESS, WRONG, PASSWORD]:
        assert personal not in everything


def test_request_id_from_a_trusted_proxy_is_kept(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1

    response = client.get("/healthz", headers={"x-request-id": "proxy-4f1c"})

    assert response["X-Request-ID"] == "proxy-4f1c"


@pytest.mark.parametrize(
    ("proxies", "forwarded"),
    [(0, "client-chosen"), (1, "not an id\nwith a line break")],
)
def test_request_id_made_here_unless_a_trusted_proxy_sends_a_plain_one(
    client, settings, proxies, forwarded
):
    settings.TRUSTED_PROXY_COUNT = proxies

    first = client.get("/healthz", headers={"x-request-id": forwarded})
    second = client.get("/healthz", headers={"x-request-id": forwarded})

    assert first["X-Request-ID"] != forwarded
    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]
