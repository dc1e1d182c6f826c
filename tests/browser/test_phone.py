import datetime

import pytest

from cooperation.models import Role
from tests.factories import ActivityFactory, AreaFactory, OrganisationFactory, ParticipationFactory

from .conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def listed():
    """Thirty activities with long titles, two organisations each, in one area."""
    area = AreaFactory(slug="training", name="Training and capacity building")
    iom = OrganisationFactory(slug="iom", name="International Organization for Migration")
    for number in range(30):
        activity = ActivityFactory(
            title=f"Joint training of border and asylum officials, course {number}",
            start_date=datetime.date(2015 + number % 8, 1, 1),
            areas=[area],
        )
        ParticipationFactory(activity=activity, organisation=iom, role=Role.IMPLEMENTING)
        ParticipationFactory(activity=activity, role=Role.FUNDING)


def on_first_screen(locator):
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


@pytest.mark.parametrize("query", ["", "?area=training&organisation=iom&status=implementation"])
def test_phone_shows_count_and_first_results_first(phone, live_server, listed, query):
    phone.goto(f"{live_server.url}/activities/{query}")

    assert on_first_screen(phone.locator("#result-count"))
    first_results = phone.locator("ol.results > li")
    assert first_results.count() >= 2
    assert on_first_screen(first_results.nth(0))
    assert on_first_screen(first_results.nth(1).locator("h3"))


def test_phone_filter_panel_folded_without_filters(phone, live_server, listed):
    phone.goto(f"{live_server.url}/activities/")
    panel = phone.locator("details#filters")

    assert panel.get_attribute("open") is None
    assert not phone.locator("#id_status").is_visible()
    assert on_first_screen(panel.locator("summary"))


def test_phone_filter_panel_open_with_filters(phone, live_server, listed):
    phone.goto(f"{live_server.url}/activities/?area=training")

    assert phone.locator("details#filters").get_attribute("open") is not None
    assert phone.locator("#id_status").is_visible()
    assert on_first_screen(phone.locator(".active-filters"))
