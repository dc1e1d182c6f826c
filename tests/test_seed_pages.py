"""With the seed data loaded, every fact of the release shows on the public pages."""

import pytest
from django.urls import reverse
from django.utils.html import escape
from pytest_django.asserts import assertContains, assertNotContains

from cooperation.models import Activity, Agreement, Area
from cooperation.seed import GREGORI, VITORINO

from .test_seed import load_seed

pytestmark = pytest.mark.django_db

CONTACT_DETAILS = ["Joel Millman", "jmillman", "+41 79 103 8720", "press@easo.europa.eu"]


@pytest.fixture
def seeded():
    load_seed()


def get(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response


def public_urls():
    lists = ["home", "activity-list", "organisation-list", "area-list", "agreement-list"]
    return [
        *(reverse(f"cooperation:{name}") for name in lists),
        *(activity.get_absolute_url() for activity in Activity.objects.all()),
        *(agreement.get_absolute_url() for agreement in Agreement.objects.all()),
        *(area.get_absolute_url() for area in Area.objects.all()),
        *(
            reverse("cooperation:organisation-detail", args=[slug])
            for slug in ["iom", "easo", "eu"]
        ),
    ]


def test_seed_pages_name_the_organisations(client, seeded):
    response = get(client, reverse("cooperation:organisation-list"))

    for name in ["International Organization for Migration", "European Asylum Support Office"]:
        assertContains(response, name)
    easo = get(client, reverse("cooperation:organisation-detail", args=["easo"]))
    assertContains(easo, "EASO")
    assertContains(easo, "European Union")
    assertContains(easo, "International Organization for Migration")  # a partner


def test_seed_pages_show_the_agreement(client, seeded):
    response = get(client, Agreement.objects.get().get_absolute_url())

    assertContains(response, "Working arrangement")
    assertContains(response, "22 July 2019, in Paris, France")
    assertContains(response, "Nina Gregori, Executive Director, for")
    assertContains(response, "António Vitorino, Director General, for")
    assertContains(response, "formal framework for the common work")
    assertContains(response, escape(GREGORI))
    assertContains(response, escape(VITORINO))
    for area in Area.objects.all():
        assertContains(response, escape(area.name))


def test_seed_pages_group_areas_by_kind(client, seeded):
    response = get(client, reverse("cooperation:area-list"))
    thematic = get(client, reverse("cooperation:area-list") + "?kind=thematic")
    cross_cutting = get(client, reverse("cooperation:area-list") + "?kind=cross-cutting")

    assert len(response.context["object_list"]) == 10
    assert len(thematic.context["object_list"]) == 7
    assert {area.name for area in cross_cutting.context["object_list"]} == {
        "Training initiatives",
        "Exchange of expertise",
        "Capacity-building for national authorities",
    }


def test_seed_pages_show_the_joint_activities(client, seeded):
    response = get(client, reverse("cooperation:activity-list"))

    assert {activity.title for activity in response.context["object_list"]} == {
        "Joint training to national authorities",
        "Coordination of resettlement from non-EU countries to the EU",
        "Exchange of data, information and documentation",
    }
    for activity in Activity.objects.all():
        detail = get(client, activity.get_absolute_url())
        assertContains(detail, "European neighbourhood")
        assertContains(detail, "Implementation")
        assertContains(detail, "implementing", count=2)
        assertContains(detail, "EASO and the IOM also work together")


def test_seed_pages_hide_contact_details(client, seeded):
    for url in public_urls():
        response = get(client, url)
        for detail in CONTACT_DETAILS:
            assertNotContains(response, detail, msg_prefix=url)
