"""A NUL character anywhere in a request but an uploaded file's contents gets the 400 page."""

from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pytest_django.asserts import assertContains, assertTemplateUsed

from cooperation.models import Organisation, OrganisationKind

from .factories import ActivityFactory, OrganisationFactory
from .test_views import list_parameters

pytestmark = pytest.mark.django_db

NUL = "\x00"
AUTOCOMPLETE = {
    "app_label": "cooperation",
    "model_name": "participation",
    "field_name": "organisation",
}


def assert_bad_request(response):
    assertContains(response, "Address not understood", status_code=400)
    assertTemplateUsed(response, "400.html")


@pytest.mark.parametrize(
    ("url", "params"),
    [
        pytest.param("cooperation:activity-list", {"q": f"train{NUL}"}, id="public-search"),
        pytest.param("cooperation:activity-list", {"area": NUL}, id="public-filter"),
        pytest.param("cooperation:changes", {"before": f"1{NUL}"}, id="public-changes"),
        pytest.param("cooperation:organisation-list", {f"q{NUL}": "iom"}, id="parameter-name"),
        pytest.param("admin:cooperation_activity_changelist", {"q": NUL}, id="admin-search"),
        pytest.param(
            "admin:cooperation_activity_changelist",
            {"publication__exact": NUL},
            id="admin-filter",
        ),
        pytest.param(
            "admin:autocomplete", {**AUTOCOMPLETE, "term": f"iom{NUL}"}, id="autocomplete"
        ),
    ],
)
def test_nul_in_query_string_is_bad_request(admin_client, url, params):
    assert_bad_request(admin_client.get(reverse(url), params))


@pytest.mark.parametrize(("name", "parameter"), [*list_parameters(), ("activity-list", "page")])
def test_nul_in_any_public_list_parameter_is_bad_request(client, name, parameter):
    assert_bad_request(client.get(reverse(f"cooperation:{name}"), {parameter: f"a{NUL}b"}))


def test_nul_in_query_string_of_detail_page_is_bad_request(client):
    activity = ActivityFactory()

    assert_bad_request(client.get(activity.get_absolute_url(), {"page": NUL}))


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/organisations/%00/", id="public"),
        pytest.param("/admin/cooperation/country/%00/change/", id="admin-text-key"),
    ],
)
def test_nul_in_path_is_bad_request(admin_client, path):
    assert_bad_request(admin_client.get(path))


def organisation_form(**fields):
    return {
        "name": "European Union Agency for Asylum",
        "slug": "euaa",
        "kind": OrganisationKind.EU_AGENCY,
        **{
            f"{prefix}-{count}": 0
            for prefix in ["former_names", "former_slugs", "citations"]
            for count in ["TOTAL_FORMS", "INITIAL_FORMS"]
        },
        **fields,
    }


@pytest.mark.parametrize("multipart", [False, True], ids=["urlencoded", "multipart"])
@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"name": f"European Union{NUL} Agency"}, id="value"),
        pytest.param({f"note{NUL}": "x"}, id="name"),
    ],
)
def test_nul_in_admin_form_is_bad_request(admin_client, fields, multipart):
    url = reverse("admin:cooperation_organisation_add")
    data = organisation_form(**fields)
    if multipart:
        response = admin_client.post(url, data)
    else:
        response = admin_client.post(
            url, urlencode(data), content_type="application/x-www-form-urlencoded"
        )

    assert_bad_request(response)
    assert not Organisation.objects.exists()


def test_uploaded_file_full_of_nul_is_not_refused(admin_client):
    """An XLSX or UTF-16 file holds NUL bytes; whoever reads the file checks its contents."""
    upload = SimpleUploadedFile("organisations.xlsx", b"PK\x03\x04\x14\x00\x00\x00\x08\x00")

    response = admin_client.post(
        reverse("admin:cooperation_organisation_add"), organisation_form(attachment=upload)
    )

    assert response.status_code == 302
    assert Organisation.objects.get().slug == "euaa"


def test_nul_in_name_of_file_field_is_bad_request(admin_client):
    upload = SimpleUploadedFile("organisations.xlsx", b"PK")

    response = admin_client.post(
        reverse("admin:cooperation_organisation_add"),
        organisation_form(**{f"attachment{NUL}": upload}),
    )

    assert_bad_request(response)


def test_request_without_nul_is_served(admin_client):
    OrganisationFactory(name="International Organization for Migration", acronym="IOM")

    response = admin_client.get(reverse("admin:autocomplete"), {**AUTOCOMPLETE, "term": "iom"})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1
