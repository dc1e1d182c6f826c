"""Content-Security-Policy and Permissions-Policy on public pages and in the admin."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from cooperation.models import Organisation

from .factories import OrganisationFactory
from .test_seed_pages import public_urls, seeded  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

PUBLIC_POLICY = {
    "default-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def policy(response):
    """The Content-Security-Policy header as a mapping of directive to its sources."""
    directives = (part.split() for part in response["Content-Security-Policy"].split(";"))
    return {name: sources for name, *sources in directives}


class InlineCode(HTMLParser):
    """Collects what a strict policy blocks: inline scripts and styles, style and on* attributes."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        names = [name for name, _ in attrs]
        if tag == "style" or (tag == "script" and "src" not in names):
            self.found.append(f"<{tag}>")
        self.found += [name for name in names if name == "style" or name.startswith("on")]


def inline_code(html):
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_public_page_has_strict_policy_and_permissions_policy(client):
    response = client.get(reverse("cooperation:home"))

    assert response.status_code == 200
    assert policy(response) == PUBLIC_POLICY
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    permissions = response["Permissions-Policy"].split(", ")
    assert {"camera=()", "microphone=()", "geolocation=()", "payment=()"} <= set(permissions)


def test_error_pages_carry_public_policy(client):
    response = client.get("/organisations/no-such-organisation/")

    assert response.status_code == 404
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "camera=()" in response["Permissions-Policy"]


def test_public_pages_run_no_inline_script_or_style(client, seeded):  # noqa: F811
    for url in public_urls():
        response = client.get(url)

        assert response.status_code == 200, url
        assert inline_code(response.content.decode()) == [], url


def test_inline_code_finder_finds_inline_code():
    html = '<p style="color: red" onclick="go()"><script>go()</script><script src="/a.js"></script>'

    assert inline_code(html + "<style>p {}</style>") == ["style", "onclick", "<script>", "<style>"]


@pytest.mark.parametrize(
    "url",
    [
        pytest.param(lambda obj: reverse("admin:index"), id="index"),
        pytest.param(
            lambda obj: reverse("admin:cooperation_organisation_changelist"), id="changelist"
        ),
        pytest.param(
            lambda obj: reverse("admin:cooperation_organisation_change", args=[obj.pk]),
            id="change-form",
        ),
        pytest.param(lambda obj: reverse("admin:cooperation_organisation_add"), id="add-form"),
    ],
)
def test_admin_pages_work_under_admin_policy(admin_client, url):
    organisation = OrganisationFactory(website="https://example.org")

    response = admin_client.get(url(organisation))

    assert response.status_code == 200
    directives = policy(response)
    assert directives["style-src"] == ["'self'", "'unsafe-inline'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert "script-src" not in directives  # scripts fall back to default-src 'self'
    assert directives["default-src"] == ["'self'"]
    assert "camera=()" in response["Permissions-Policy"]


def test_admin_login_page_has_admin_policy(client):
    response = client.get(reverse("admin:login"))

    assert response.status_code == 200
    assert "'unsafe-inline'" in policy(response)["style-src"]


def test_admin_change_form_saves_under_admin_policy(admin_client):
    organisation = OrganisationFactory()
    url = reverse("admin:cooperation_organisation_change", args=[organisation.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data["name"] = "Renamed"
    for prefix in ["former_names", "former_slugs", "citations"]:
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    assert Organisation.objects.get().name == "Renamed"
    assert "'unsafe-inline'" in policy(response)["style-src"]
