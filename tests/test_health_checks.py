"""/healthz and /readyz answer a load balancer probing by address over plain HTTP."""

import pytest
from django.db import connection
from django.db.utils import OperationalError

pytestmark = pytest.mark.django_db

PROBE = {"headers": {"host": "203.0.113.7:8000"}, "secure": False}


@pytest.fixture(autouse=True)
def production_security(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["tracker.example.org"]


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_check_answers_any_host_over_http(client, path):
    response = client.get(path, **PROBE)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == b"ok"


def test_other_pages_still_check_host_and_redirect_to_https(client):
    assert client.get("/", **PROBE).status_code == 400
    response = client.get("/", headers={"host": "tracker.example.org"}, secure=False)
    assert response.status_code == 301
    assert response["Location"] == "https://tracker.example.org/"


def test_liveness_does_not_touch_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/healthz", **PROBE).status_code == 200


def test_readiness_asks_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert client.get("/readyz", **PROBE).status_code == 200


def test_readiness_503_when_the_database_does_not_answer(client, monkeypatch):
    def refuse():
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "ensure_connection", refuse)

    response = client.get("/readyz", **PROBE)

    assert response.status_code == 503
    assert response.content == b"unavailable"
