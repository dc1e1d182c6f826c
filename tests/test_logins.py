import logging

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from pytest_django.asserts import assertContains, assertTemplateUsed

from cooperation.logins import client_address

pytestmark = pytest.mark.django_db

PAIR_LIMIT = settings.AXES_FAILURE_LIMIT
ADDRESS_LIMIT = settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS
PASSWORD = "correct-horse-battery-staple"
WRONG = "Wrong-guess-71"
HERE = "203.0.113.9"
ELSEWHERE = "198.51.100.20"
PROXY = "10.0.0.2"


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create_user("editor", password=PASSWORD, is_staff=True)


def log_in(username, password, address, **headers):
    """POST the admin login form from `address` with a fresh client; return the response."""
    client = Client()
    response = client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
        REMOTE_ADDR=address,
        **headers,
    )
    response.logged_in = "_auth_user_id" in client.session
    return response


def fail(times, username="editor", address=HERE, **headers):
    for _ in range(times):
        response = log_in(username, WRONG, address, **headers)
        assert not response.logged_in
    return response


def test_login_correct_password_succeeds_below_the_limit(editor):
    fail(PAIR_LIMIT - 1)

    response = log_in("editor", PASSWORD, HERE)

    assert response.status_code == 302
    assert response.logged_in


def test_login_success_resets_the_count_of_its_account_and_address(editor):
    fail(PAIR_LIMIT - 1)
    assert log_in("editor", PASSWORD, HERE).logged_in

    fail(PAIR_LIMIT - 1)

    assert log_in("editor", PASSWORD, HERE).logged_in


def test_login_correct_password_refused_while_account_and_address_locked(editor):
    last = fail(PAIR_LIMIT)

    response = log_in("editor", PASSWORD, HERE)

    assert last.status_code == 429
    assert response.status_code == 429
    assert not response.logged_in


def test_login_lockout_page_says_how_long_to_wait(editor):
    fail(PAIR_LIMIT)

    response = log_in("editor", PASSWORD, HERE)

    assertTemplateUsed(response, "cooperation/lockout.html")
    assertContains(response, "Too many failed logins", status_code=429)
    assertContains(response, "Wait 15 minutes", status_code=429)


def test_login_same_account_from_another_address_succeeds(editor):
    fail(PAIR_LIMIT + 2)

    response = log_in("editor", PASSWORD, ELSEWHERE)

    assert response.status_code == 302
    assert response.logged_in


def test_login_other_account_from_a_locked_pair_address_succeeds(editor, django_user_model):
    django_user_model.objects.create_user("colleague", password=PASSWORD, is_staff=True)
    fail(PAIR_LIMIT)

    assert log_in("colleague", PASSWORD, HERE).logged_in


def test_login_address_locked_after_many_failures_across_accounts(editor):
    assert ADDRESS_LIMIT > PAIR_LIMIT
    for number in range(ADDRESS_LIMIT - 1):
        fail(1, username=f"guess{number}")
    assert log_in("editor", PASSWORD, HERE).logged_in

    fail(1, username="one-guess-too-many")

    response = log_in("editor", PASSWORD, HERE)
    assert response.status_code == 429
    assert not response.logged_in
    assert log_in("editor", PASSWORD, ELSEWHERE).logged_in


def test_login_failure_logged_without_username_address_or_password(editor, caplog):
    caplog.set_level(logging.WARNING, logger="axes")

    fail(1)

    failures = [record.getMessage() for record in caplog.records if "login failure" in record.msg]
    assert len(failures) == 1
    assert 'username: "****' in failures[0]  # masked
    assert 'ip_address: "****' in failures[0]
    for personal in ["editor", HERE, WRONG]:
        assert personal not in caplog.text
    assert WRONG not in AccessAttempt.objects.get().post_data


def test_axes_reset_username_unlocks_the_account(editor):
    fail(PAIR_LIMIT)
    assert not log_in("editor", PASSWORD, HERE).logged_in

    call_command("axes_reset_username", "editor")

    assert log_in("editor", PASSWORD, HERE).logged_in


def test_axes_reset_ip_unlocks_the_address(editor):
    for number in range(ADDRESS_LIMIT):
        fail(1, username=f"guess{number}")
    assert not log_in("editor", PASSWORD, HERE).logged_in

    call_command("axes_reset_ip", HERE)

    assert log_in("editor", PASSWORD, HERE).logged_in


def test_login_behind_proxy_spoofed_forwarded_entries_do_not_escape_the_lock(editor, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for number in range(PAIR_LIMIT):
        fail(1, address=PROXY, HTTP_X_FORWARDED_FOR=f"192.0.2.{number}, {HERE}")

    spoofed = log_in("editor", PASSWORD, PROXY, HTTP_X_FORWARDED_FOR=f"192.0.2.99, {HERE}")
    elsewhere = log_in("editor", PASSWORD, PROXY, HTTP_X_FORWARDED_FOR=ELSEWHERE)

    assert not spoofed.logged_in
    assert elsewhere.logged_in
    assert AccessAttempt.objects.get().ip_address == HERE


@pytest.mark.parametrize(
    ("proxies", "forwarded", "address"),
    [
        pytest.param(0, f"{ELSEWHERE}, {HERE}", PROXY, id="no-proxy-ignores-header"),
        pytest.param(1, None, PROXY, id="no-header"),
        pytest.param(1, HERE, HERE, id="one-proxy"),
        pytest.param(1, f"{ELSEWHERE}, {HERE}", HERE, id="one-proxy-spoofed-entry"),
        pytest.param(2, f"{ELSEWHERE}, {HERE}, 10.0.0.7", HERE, id="two-proxies"),
        pytest.param(2, HERE, PROXY, id="fewer-entries-than-proxies"),
        pytest.param(1, "unknown", PROXY, id="not-an-address"),
        pytest.param(1, " 2001:DB8::1 ", "2001:db8::1", id="ipv6"),
    ],
)
def test_client_address_trusts_only_the_configured_proxies(settings, proxies, forwarded, address):
    settings.TRUSTED_PROXY_COUNT = proxies
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, **headers)

    assert client_address(request) == address


@pytest.mark.parametrize(
    "model",
    [model for model in admin.site._registry if model._meta.app_label == "axes"],
    ids=lambda model: model.__name__,
)
def test_axes_admin_pages_render_after_a_failed_and_a_good_login(editor, admin_client, model):
    fail(1)
    log_in("editor", PASSWORD, HERE)
    url = reverse(f"admin:axes_{model._meta.model_name}_changelist")

    assert admin_client.get(url).status_code == 200


def test_access_attempts_admin_page_lists_the_failures(editor, admin_client):
    fail(1)

    response = admin_client.get(reverse("admin:axes_accessattempt_changelist"))

    assertContains(response, HERE)
    assert [attempt.username for attempt in response.context["cl"].result_list] == ["editor"]
