"""Stored addresses are http or https, by database constraint, and only those are linked."""

import importlib
import json
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from cooperation.models import Organisation, OrganisationKind, Source
from cooperation.templatetags.web_addresses import web_address

from .factories import CitationFactory, OrganisationFactory, ParticipationFactory, SourceFactory
from .test_models import refused

pytestmark = pytest.mark.django_db

ADDRESS_FIELDS = [
    pytest.param(OrganisationFactory, "website", id="organisation-website"),
    pytest.param(SourceFactory, "url", id="source-url"),
]
OTHER_SCHEMES = [
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "ftp://example.org/file",
    "example.org",
]
WEB_ADDRESSES = ["https://www.iom.int/", "http://example.org", "HTTPS://EXAMPLE.ORG/Path"]
SCRIPT = "javascript:alert(document.cookie)"


@pytest.mark.parametrize(("factory", "field"), ADDRESS_FIELDS)
@pytest.mark.parametrize("address", OTHER_SCHEMES)
def test_other_scheme_refused_by_database(factory, field, address):
    row = factory()

    assert f"{field}_http_or_https" in refused(row, **{field: address})


@pytest.mark.parametrize(("factory", "field"), ADDRESS_FIELDS)
@pytest.mark.parametrize("address", ["", *WEB_ADDRESSES])
def test_web_address_or_blank_saved(factory, field, address):
    row = factory(**{field: address})

    row.full_clean()
    row.refresh_from_db()
    assert getattr(row, field) == address


@pytest.mark.parametrize(("factory", "field"), ADDRESS_FIELDS)
def test_other_scheme_refused_in_bulk(factory, field):
    model = factory._meta.model
    row = factory.build(**{field: SCRIPT})

    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.bulk_create([row])
    factory()
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.update(**{field: SCRIPT})


def test_other_scheme_refused_by_loaddata(tmp_path):
    fixture = tmp_path / "organisations.json"
    organisation = {"name": "Example", "slug": "example", "kind": OrganisationKind.INTERNATIONAL}
    rows = [{"model": "cooperation.organisation", "fields": {**organisation, "website": SCRIPT}}]
    fixture.write_text(json.dumps(rows))

    with pytest.raises(IntegrityError), transaction.atomic():
        call_command("loaddata", str(fixture), verbosity=0)
    assert not Organisation.objects.exists()


@pytest.mark.parametrize(
    ("address", "message"),
    [
        (SCRIPT, "Enter a valid URL."),
        ("ftp://example.org/file", "Enter an address that starts with http:// or https://."),
    ],
)
def test_admin_form_refuses_other_scheme(admin_client, address, message):
    url = reverse("admin:cooperation_source_add")
    data = {
        "title": "Press release",
        "slug": "press-release",
        "url": address,
        "text": "The parties work together.",
    }

    response = admin_client.post(url, data)

    assertContains(response, message)
    assert response.context["adminform"].form.errors["url"] == [message]
    assert not Source.objects.exists()


@pytest.mark.parametrize("address", OTHER_SCHEMES)
def test_web_address_filter_drops_other_schemes(address):
    assert web_address(address) == ""


@pytest.mark.parametrize("address", WEB_ADDRESSES)
def test_web_address_filter_keeps_web_addresses(address):
    assert web_address(address) == address


@pytest.fixture
def unchecked_addresses():
    """Let rows with any address in, as a database restored from before the constraints."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA ignore_check_constraints = ON")
        else:
            for model, field in [(Organisation, "website"), (Source, "url")]:
                name = f"cooperation_{model._meta.model_name}_{field}_http_or_https"
                cursor.execute(f"ALTER TABLE {model._meta.db_table} DROP CONSTRAINT {name}")
    yield
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA ignore_check_constraints = OFF")
    # On PostgreSQL the test's transaction, rolled back, takes the dropped constraints back.


def test_pages_link_no_other_scheme_that_got_in(client, unchecked_addresses):
    organisation = OrganisationFactory(website=SCRIPT)
    participation = ParticipationFactory(organisation=organisation)
    CitationFactory(activity=participation.activity, source=SourceFactory(url=SCRIPT))
    CitationFactory(organisation=organisation, source=SourceFactory(url="https://example.org/"))

    for page in [organisation, participation.activity]:
        response = client.get(page.get_absolute_url())

        assert response.status_code == 200
        assertNotContains(response, "javascript:")
    assertContains(response, "work together on training")  # the evidence is still shown
    organisation_page = client.get(organisation.get_absolute_url())
    assertContains(organisation_page, '<a href="https://example.org/" rel="external">')


def test_migration_blanks_other_schemes(unchecked_addresses):
    migration = importlib.import_module("cooperation.migrations.0011_web_addresses_http_or_https")
    kept = OrganisationFactory(website="HTTPS://example.org")
    blanked = OrganisationFactory(website=SCRIPT)
    source = SourceFactory(url="ftp://example.org/file")

    migration.blank_other_addresses(apps, SimpleNamespace(connection=connection))

    assert Organisation.objects.get(pk=kept.pk).website == "HTTPS://example.org"
    assert Organisation.objects.get(pk=blanked.pk).website == ""
    assert Source.objects.get(pk=source.pk).url == ""
