import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains

from cooperation import paging
from cooperation.models import Activity

from .factories import ActivityFactory

pytestmark = pytest.mark.django_db

LIST = reverse("cooperation:activity-list")
PAGE_SIZE = 25


@pytest.fixture
def small_count_limit(monkeypatch):
    """Count at most 50 rows, so that two numbered pages lead to cursor pages."""
    monkeypatch.setattr(paging, "COUNT_LIMIT", 50)


@pytest.fixture
def activities():
    """80 activities over few dates, so ties are broken by key, and 10 undated ones."""
    dated = [
        ActivityFactory(start_date=datetime.date(2020, 1 + index % 6, 1), title=f"T{index:03}")
        for index in range(80)
    ]
    undated = [ActivityFactory(start_date=None, title=f"U{index:03}") for index in range(10)]
    return dated + undated


def titles(response):
    return [activity.title for activity in response.context["object_list"]]


def link(response, rel):
    match = re.search(rf'href="([^"]*)" rel="{rel}"', response.content.decode())
    return match and match.group(1).replace("&amp;", "&")


def walk(client, url, rel):
    """
    Follow `rel` links from `url` (a query string of the list) to the end: the titles of
    every page in order, and the address of the last one.
    """
    pages = []
    while True:
        response = client.get(LIST + url)
        assert response.status_code == 200
        pages.append(titles(response))
        if not link(response, rel):
            return pages, url
        url = link(response, rel)


ORDERS = {
    "": lambda a: (a.start_date is None, -(a.start_date or datetime.date.min).toordinal(), -a.pk),
    "?sort=start": lambda a: (a.start_date is None, a.start_date or datetime.date.min, a.pk),
    "?sort=-start": lambda a: (
        a.start_date is None,
        -(a.start_date or datetime.date.min).toordinal(),
        -a.pk,
    ),
    "?sort=title": lambda a: (a.title, a.pk),
    "?sort=-title": lambda a: (tuple(-ord(c) for c in a.title), -a.pk),
}


@pytest.mark.parametrize("sort", ORDERS)
def test_pages_walk_every_row_once_in_order_forwards_and_back(
    client, small_count_limit, activities, sort
):
    expected = [a.title for a in sorted(activities, key=ORDERS[sort])]

    forwards, last = walk(client, sort, "next")
    backwards, _ = walk(client, last, "prev")

    assert [title for page in forwards for title in page] == expected
    assert [len(page) for page in forwards] == [25, 25, 25, 15]
    assert [title for page in reversed(backwards) for title in page] == expected


def test_count_past_the_limit_says_more_than(client, small_count_limit, activities):
    response = client.get(LIST)

    assertContains(response, "More than 50 activities")
    assertContains(response, "Page 1 of many")
    assert link(response, "next") == "?page=2"
    assert "after=" in link(client.get(LIST, {"page": 2}), "next")


def test_exact_count_keeps_numbered_pages(client, activities):
    response = client.get(LIST, {"page": 4})

    assertContains(response, "90 activities")
    assertContains(response, "Page 4 of 4")
    assert link(response, "next") is None


@pytest.mark.parametrize(
    "query",
    [
        {"after": "not-a-cursor"},
        {"after": "W1tdLCAxXQ"},  # ["", 1] and such: well-formed, wrong values
        {"before": "WyIyMDIwLTEzLTAxIiwxXQ"},  # ["2020-13-01",1]
        {"after": "WyIyMDIwLTAxLTAxIiwxXQ", "before": "WyIyMDIwLTAxLTAxIiwxXQ"},
    ],
)
def test_damaged_page_link_is_400_with_a_way_back(client, query):
    ActivityFactory()

    response = client.get(LIST, query)

    assert response.status_code == 400
    assertContains(response, "Start from the first page", status_code=400)


def test_cursor_page_costs_the_queries_of_a_numbered_page(client, small_count_limit, activities):
    cursor = link(client.get(LIST, {"page": 2}), "next")
    client.get(LIST + cursor)  # Both filter forms now written and kept (cached.py).

    with CaptureQueriesContext(connection) as numbered:
        client.get(LIST, {"page": 2})
    with CaptureQueriesContext(connection) as keyed:
        client.get(LIST + cursor)

    assert len(keyed) == len(numbered)


def test_key_reads_the_order_of_a_list():
    newest = paging.Key.of(Activity.objects.newest_first())
    unordered = paging.Key.of(Activity.objects.all())

    assert newest == paging.Key("start_date", descending=True, nullable=True)
    assert unordered is None


def test_admin_list_counts_no_further_than_the_limit(admin_client, small_count_limit, activities):
    response = admin_client.get(reverse("admin:cooperation_activity_changelist"))

    assertContains(response, "More than 50 activities")
    assert response.context["cl"].paginator.num_pages == 1  # 50 rows at 100 a page
    assert response.context["cl"].full_result_count is None
