"""Atom feeds of newly published activities and agreements, filtered as their lists."""

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains

from cooperation.models import Activity, Publication, Role

from .factories import (
    ActivityFactory,
    AgreementFactory,
    AreaFactory,
    OrganisationFactory,
    ParticipationFactory,
)

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
NOW = timezone.now()


def entries(response):
    """The titles of a valid Atom feed's entries, after checking what Atom requires."""
    assert response.status_code == 200, response.content.decode()
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    for element in [feed, *feed.iter(f"{ATOM}entry")]:
        for required in ["id", "title", "updated"]:
            assert element.find(f"{ATOM}{required}").text, required
    return [entry.find(f"{ATOM}title").text for entry in feed.iter(f"{ATOM}entry")]


def published(title, hours_ago, organisation=None, role=Role.IMPLEMENTING, **fields):
    activity = ActivityFactory(title=title, **fields)
    Activity.objects.filter(pk=activity.pk).update(
        published_at=NOW - datetime.timedelta(hours=hours_ago)
    )
    if organisation:
        ParticipationFactory(activity=activity, organisation=organisation, role=role)
    return activity


@pytest.fixture
def iom():
    return OrganisationFactory(name="International Organization for Migration", slug="iom")


def test_activity_feed_lists_newest_published_first(client, iom):
    published("Older", 5, iom)
    published("Newest", 1, iom)
    published("Middle", 3)
    loaded = ActivityFactory(title="Loaded without a time")
    Activity.objects.filter(pk=loaded.pk).update(published_at=None)
    ActivityFactory(title="Draft", publication=Publication.DRAFT)

    titles = entries(client.get(reverse("cooperation:activity-feed")))

    assert titles == ["Newest", "Middle", "Older", "Loaded without a time"]


def test_activity_feed_filters_as_the_list(client, iom):
    training = AreaFactory(slug="training")
    published("Funded by IOM", 1, iom, role=Role.FUNDING, areas=[training])
    published("Run by IOM", 2, iom)
    published("Without IOM", 3, OrganisationFactory())

    url = reverse("cooperation:activity-feed")

    assert entries(client.get(url, {"organisation": "iom"})) == ["Funded by IOM", "Run by IOM"]
    assert entries(client.get(url, {"organisation": "iom", "role": "funding"})) == ["Funded by IOM"]
    assert entries(client.get(url, {"area": "training", "page": "3"})) == ["Funded by IOM"]
    assert entries(client.get(url, {"q": "without"})) == ["Without IOM"]


def test_feed_links_its_filtered_list(client, iom):
    published("Run by IOM", 1, iom)

    response = client.get(reverse("cooperation:activity-feed"), {"organisation": "iom"})

    feed = ET.fromstring(response.content)
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links == {
        "alternate": "http://testserver/activities/?organisation=iom",
        "self": "http://testserver/activities/feed/?organisation=iom",
    }
    assert feed.find(f"{ATOM}title").text.endswith("(organisation=iom)")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"organisation": "nobody"}, "organisation: No organisation matches “nobody”."),
        ({"status": "lost"}, "status: Select a valid choice."),
        ({"start_date_after": "someday"}, "start_date_after: Enter a valid date."),
    ],
)
def test_feed_with_invalid_filters_is_400(client, params, message):
    response = client.get(reverse("cooperation:activity-feed"), params)

    assertContains(response, message, status_code=400)
    assert response["Content-Type"] == "text/plain; charset=utf-8"


def test_agreement_feed_lists_published_agreements_filtered(client, iom):
    other = OrganisationFactory()
    AgreementFactory(title="With IOM", parties=[iom, other])
    AgreementFactory(title="Without IOM", parties=[other, OrganisationFactory()])
    AgreementFactory(title="Draft with IOM", parties=[iom, other], publication=Publication.DRAFT)
    url = reverse("cooperation:agreement-feed")

    assert entries(client.get(url, {"party": "iom"})) == ["With IOM"]
    assert sorted(entries(client.get(url))) == ["With IOM", "Without IOM"]
    assertContains(client.get(url, {"party": "nobody"}), "No organisation", status_code=400)


@pytest.mark.parametrize(
    ("list_name", "feed_name"),
    [
        ("cooperation:activity-list", "cooperation:activity-feed"),
        ("cooperation:agreement-list", "cooperation:agreement-feed"),
    ],
)
def test_list_page_links_its_feed_with_its_filters(client, list_name, feed_name):
    response = client.get(reverse(list_name), {"q": "work", "page": "1"})

    feed = f"{reverse(feed_name)}?q=work"
    assertContains(response, '<link rel="alternate" type="application/atom+xml"', count=1)
    assertContains(response, f'href="{feed}"', count=2)  # in the head and in the page
