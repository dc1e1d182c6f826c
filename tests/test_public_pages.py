"""What an anonymous visitor can reach, and that no page shows contact details."""

import io
import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.urls import URLResolver, get_resolver, resolve, reverse

from cooperation.models import Activity, Agreement, Area, Citation, Organisation, Region, Source
from cooperation.privacy import contact_details

from .test_privacy import CONTACT_LINE
from .test_seed import load_seed

pytestmark = pytest.mark.django_db

PUBLIC_RECORDS = [Activity, Agreement, Organisation, Area, Region]
LISTS = ["home", "activity-list", "organisation-list", "area-list", "region-list"]
LISTS += ["agreement-list", "changes", "changes-feed", "activity-feed", "agreement-feed"]
LISTS += [f"{model._meta.model_name}-list-json" for model in PUBLIC_RECORDS]
LISTS += [f"api:{model._meta.model_name}-list" for model in [*PUBLIC_RECORDS, Source]]
LISTS += ["api:root", "api:schema", "api:docs"]

#: Shapes of contact details beyond the rule's own: any address, and any link to one.
CONTACT_SHAPES = re.compile(r"\w@\w|mailto:|tel:|callto:", re.IGNORECASE)


def public_urls():
    """
    Every list, its .json twin and its API list, the change log and the feeds, and the page
    and API record of every public record.
    """
    records = [
        record for model in PUBLIC_RECORDS for record in model.objects.public().order_by("pk")
    ]
    return (
        [reverse(f"cooperation:{name}") for name in LISTS]
        + [record.get_absolute_url() for record in records]
        + [api_url(record) for record in [*records, *Source.objects.cited_publicly()]]
    )


def api_url(record):
    key = record.slug if isinstance(record, (Organisation, Area, Region)) else record.pk
    return reverse(f"cooperation:api:{record._meta.model_name}-detail", args=[key])


def contact_details_shown(client):
    """Each public page that shows something shaped like contact details, with what it shows."""
    shown = {}
    for url in public_urls():
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        found = contact_details(page) + CONTACT_SHAPES.findall(page)
        if found:
            shown[url] = found
    return shown


def test_seed_pages_show_no_contact_details(client):
    load_seed()

    assert contact_details_shown(client) == {}
    assert len(public_urls()) == len(LISTS) + 2 * (3 + 1 + 3 + 10 + 2) + 1


def test_generated_pages_show_no_contact_details(client):
    call_command("generate_demo", "--activities=300", stdout=io.StringIO())

    assert contact_details_shown(client) == {}
    assert Activity.objects.public().count() > 200


def test_page_scan_finds_contact_details_that_bypass_validation(client):
    # The rule is model validation: the ORM can still write what the admin refuses.
    load_seed()
    Citation.objects.create(
        source=Source.objects.get(),
        organisation=Organisation.objects.get(slug="iom"),
        quote=CONTACT_LINE,
    )

    found = ["Tel.: +41 79 103 8720", "jmillman@iom.int", "n@i"]
    # The organisation's page, and the API's record and lists, .json twin included.
    assert contact_details_shown(client) == {
        reverse("cooperation:organisation-detail", args=["iom"]): found,
        reverse("cooperation:api:organisation-detail", args=["iom"]): found,
        reverse("cooperation:api:organisation-list"): found,
        reverse("cooperation:organisation-list-json"): found,
    }


#: The URLs a visitor may reach, by name: the public pages, and the admin's login and logout
#: (which sends a visitor who is not logged in to the admin's index, and so to the login).
PUBLIC_URL_NAMES = (
    {f"cooperation:{name}" for name in LISTS}
    | {f"cooperation:{model._meta.model_name}-detail" for model in PUBLIC_RECORDS}
    | {"admin:login", "admin:logout", "cooperation:glossary"}
    | {f"cooperation:{name}-export" for name in LISTS if name.endswith("-list") and ":" not in name}
    - {"cooperation:region-list-export"}
    | {f"cooperation:api:{model._meta.model_name}-detail" for model in [*PUBLIC_RECORDS, Source]}
)


def routes(patterns=None, prefix="", namespace=""):
    """(path, name, view) of every URL pattern, with its path parameters filled in."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        path = prefix + filled(pattern, namespace)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from routes(pattern.url_patterns, path, inner)
        else:
            yield path, f"{namespace}{pattern.name}" if pattern.name else None, pattern.callback


#: Regular-expression groups of the admin's patterns (django-reversion's and the app index),
#: and the value each is given.
REGEX_GROUPS = {
    r"(?P<app_label>auth|axes|cooperation)": "cooperation",
    r"(?P<url>.*)": "no-such-page/",
    r"([^/]+)": "1",
    r"(\d+)": "1",
}


def filled(pattern, namespace):
    """The text of one pattern's part of a path, each parameter given a value."""
    text = str(pattern.pattern)
    for group, value in REGEX_GROUPS.items():
        text = text.replace(group, value)
    text = text.removeprefix("^").removesuffix("$")
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda match: parameter(pattern, match[1]), text)


def parameter(pattern, name):
    """A value for the path parameter `name`: a record's, where the view shows one."""
    # A DRF viewset's view names its class `cls`; its queryset is public already.
    view_class = getattr(pattern.callback, "view_class", None)
    queryset = getattr(view_class, "queryset", None)
    if queryset is not None:
        return str(getattr(queryset.model.objects.public().first(), name))
    viewset = getattr(pattern.callback, "cls", None)
    if viewset is not None:
        return str(getattr(viewset.queryset.first(), name))
    model_admin = getattr(pattern.callback, "model_admin", None)
    record = model_admin.model.objects.first() if model_admin else None
    if name == "format":  # An export's: every list has CSV.
        return "csv"
    if name == "content_type_id":
        return str(ContentType.objects.get_for_model(Activity).pk)
    return str(record.pk) if record else "1"


def test_every_url_but_the_public_ones_asks_a_visitor_to_log_in(client, django_user_model):
    load_seed()
    django_user_model.objects.create_user(username="editor", is_staff=True)
    login = reverse("admin:login")
    answers, public, private = {}, {}, 0
    for path, name, view in routes():
        assert resolve("/" + path).func == view, path  # the parameters were filled right
        response = client.get("/" + path)
        if name in PUBLIC_URL_NAMES:
            public[name] = response.status_code
            continue
        private += 1
        location = response.headers.get("Location", "")
        if not (response.status_code in (403, 404) or location.startswith(login + "?next=")):
            answers[path] = response.status_code

    assert answers == {}
    assert private > 100  # the admin's pages were walked too
    assert public == dict.fromkeys(PUBLIC_URL_NAMES, 200) | {"admin:logout": 302}
