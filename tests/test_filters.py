import datetime
import re

import pytest
from django import forms
from django.db import connection
from django.urls import reverse
from pytest_django.asserts import assertContains, assertHTMLEqual, assertNotContains

from cooperation import models
from cooperation.filters import CANDIDATES_SHOWN, PlainSelect
from cooperation.models import Publication, Role

from .factories import (
    ActivityFactory,
    AgreementFactory,
    AreaFactory,
    OrganisationFactory,
    ParticipationFactory,
)

pytestmark = pytest.mark.django_db


def get(client, name, expect=200, **params):
    response = client.get(reverse(f"cooperation:{name}"), params)
    assert response.status_code == expect, response.content.decode()[:2000]
    return response


def titles(response):
    return [row.title for row in response.context["page_obj"].object_list]


def input_value(response, name):
    """The value shown in the text input `name`, unescaped quotes aside."""
    field = re.search(rf'<input type="text" name="{name}"[^>]*>', response.content.decode())
    assert field, f"no text input {name!r}"
    value = re.search(r'value="([^"]*)"', field[0])
    return value and value[1]


@pytest.fixture
def iom():
    """IOM, funding one activity and implementing another; a second organisation in both."""
    iom = OrganisationFactory(
        name="International Organization for Migration", acronym="IOM", slug="iom"
    )
    other = OrganisationFactory(name="Asylum Agency", acronym="AA", slug="aa")
    for title, role, start in [
        ("Funded", Role.FUNDING, datetime.date(2021, 1, 1)),
        ("Implemented", Role.IMPLEMENTING, datetime.date(2020, 1, 1)),
    ]:
        activity = ActivityFactory(title=title, start_date=start)
        ParticipationFactory(activity=activity, organisation=iom, role=role)
        ParticipationFactory(activity=activity, organisation=other)
    ActivityFactory(title="Elsewhere")
    return iom


LABEL = "International Organization for Migration (IOM)"


@pytest.mark.parametrize(
    "typed",
    [
        "iom",
        "International Organization for Migration",
        "international organization for MIGRATION",
        "IOM",
        "  Iom ",
        LABEL,
        LABEL.upper(),
        "organization for mig",
    ],
)
def test_organisation_filter_takes_slug_name_acronym_label_or_part(client, iom, typed):
    response = get(client, "activity-list", organisation=typed)

    assert titles(response) == ["Funded", "Implemented"]
    assert input_value(response, "organisation") == LABEL


def test_organisation_filter_label_sent_back_chooses_the_same(client, iom):
    first = get(client, "activity-list", organisation="iom", role="funding")
    again = get(
        client, "activity-list", organisation=input_value(first, "organisation"), role="funding"
    )

    assert titles(first) == titles(again) == ["Funded"]
    assert input_value(again, "organisation") == LABEL


def test_organisation_filter_by_name_keeps_its_role(client, iom):
    assert titles(get(client, "activity-list", organisation="IOM", role="implementing")) == [
        "Implemented"
    ]
    assert titles(get(client, "activity-list", organisation="IOM", role="accountable")) == []


def test_organisation_filter_slug_wins_over_others_acronym(client, iom):
    OrganisationFactory(name="Office of Migration", acronym="iom", slug="oom")

    assert titles(get(client, "activity-list", organisation="iom")) == ["Funded", "Implemented"]


def test_organisation_filter_several_matches_lists_links_that_choose_one(client, iom):
    agency = OrganisationFactory(name="Migration Agency", acronym="MA", slug="ma")
    ParticipationFactory(organisation=agency)
    draft = ActivityFactory(publication=Publication.DRAFT)
    ParticipationFactory(activity=draft, organisation__name="Migration Draft Body")

    response = get(
        client, "activity-list", expect=400, organisation="migration", role="funding", page="1"
    )

    assertContains(response, "Several organisations match “migration”: ", status_code=400)
    for organisation, label in [(iom, LABEL), (agency, "Migration Agency (MA)")]:
        assertContains(
            response,
            f'<a href="?organisation={organisation.slug}&amp;role=funding">{label}</a>',
            status_code=400,
        )
    assertNotContains(response, "Migration Draft Body", status_code=400)
    assert input_value(response, "organisation") == "migration"
    assert list(response.context["page_obj"].object_list) == []


def test_organisation_filter_shared_acronym_is_ambiguous(client):
    for name, slug in [("European Union", "eu"), ("Eurasian Union", "eau")]:
        ParticipationFactory(organisation=OrganisationFactory(name=name, acronym="EU", slug=slug))

    response = get(client, "agreement-list", expect=400, party="EU")

    assertContains(response, "Several organisations match “EU”", status_code=400)
    assertContains(response, '<a href="?party=eau">Eurasian Union (EU)</a>', status_code=400)
    assertContains(response, '<a href="?party=eu">European Union (EU)</a>', status_code=400)
    assert get(client, "agreement-list", party="eu").context["filter"].form.is_valid()


def test_organisation_filter_names_at_most_some_candidates(client):
    for n in range(CANDIDATES_SHOWN + 5):
        ParticipationFactory(organisation__name=f"Regional Office {n:02}")

    response = get(client, "activity-list", expect=400, organisation="regional office")

    content = response.content.decode()
    assert content.count('<a href="?organisation=') == CANDIDATES_SHOWN
    assert "Regional Office 19" in content
    assert "Regional Office 20" not in content
    assertContains(response, ", and 5 more: type more of the name.", status_code=400)


def test_organisation_filter_no_match_answers_400(client, iom):
    response = get(client, "activity-list", expect=400, organisation="UNHCR")

    assertContains(response, "No organisation matches “UNHCR”.", status_code=400)
    assertContains(response, "Correct the fields marked below", status_code=400)


def test_organisation_filter_ignores_organisations_only_drafts_name(client, iom):
    draft = ActivityFactory(publication=Publication.DRAFT)
    ParticipationFactory(
        activity=draft, organisation__name="Hidden Partner", organisation__slug="hp"
    )

    for typed in ["hp", "Hidden Partner", "hidden"]:
        response = get(client, "activity-list", expect=400, organisation=typed)
        assertContains(response, f"No organisation matches “{typed}”.", status_code=400)


def test_party_and_partner_filters_take_names(client, iom):
    other = OrganisationFactory(name="Returns Office", acronym="RO")
    AgreementFactory(title="Arrangement", parties=[iom, other])
    AgreementFactory(title="Unrelated")

    assert titles(get(client, "agreement-list", party="Returns Office")) == ["Arrangement"]
    partners = get(client, "organisation-list", partner="IOM")
    assert [row.name for row in partners.context["page_obj"].object_list] == [
        "Asylum Agency",
        "Returns Office",
    ]
    assert input_value(partners, "partner") == LABEL


@pytest.fixture
def agreements():
    """Two public agreements sharing a title, one with its own, and a draft."""
    made = {
        key: AgreementFactory(title=title, publication=publication)
        for key, title, publication in [
            ("first", "Memorandum of Understanding", Publication.PUBLISHED),
            ("second", "Memorandum of Understanding", Publication.PUBLISHED),
            ("own", "Working Arrangement on Returns", Publication.PUBLISHED),
            ("draft", "Draft Protocol", Publication.DRAFT),
        ]
    }
    for key, agreement in made.items():
        ActivityFactory(title=f"Under {key}", agreement=agreement)
    return made


@pytest.mark.parametrize(
    "typed",
    ["{own}", "Working Arrangement on Returns", "working arrangement on RETURNS", "returns"],
)
def test_agreement_filter_takes_number_title_or_part(client, agreements, typed):
    response = get(client, "activity-list", agreement=typed.format(own=agreements["own"].pk))

    assert titles(response) == ["Under own"]
    assert input_value(response, "agreement") == "Working Arrangement on Returns"


def test_agreement_filter_shared_title_is_labelled_with_its_number(client, agreements):
    second = agreements["second"]
    label = f"Memorandum of Understanding (no. {second.pk})"

    response = get(client, "activity-list", agreement=second.pk)
    again = get(client, "activity-list", agreement=input_value(response, "agreement"))

    assert input_value(response, "agreement") == label
    assert titles(response) == titles(again) == ["Under second"]
    assert input_value(again, "agreement") == label


def test_agreement_filter_shared_title_lists_each(client, agreements):
    response = get(client, "activity-list", expect=400, agreement="memorandum of understanding")

    assertContains(response, "Several agreements match", status_code=400)
    for key in ["first", "second"]:
        pk = agreements[key].pk
        assertContains(
            response,
            f'<a href="?agreement={pk}">Memorandum of Understanding (no. {pk})</a>',
            status_code=400,
        )


@pytest.mark.parametrize("typed", ["Draft Protocol", "protocol", "{draft}"])
def test_agreement_filter_ignores_drafts(client, agreements, typed):
    typed = typed.format(draft=agreements["draft"].pk)

    response = get(client, "activity-list", expect=400, agreement=typed)

    message = "No agreement has the number" if typed.isdigit() else "No agreement matches"
    assertContains(response, f"{message} ", status_code=400)
    assertNotContains(response, "Under draft", status_code=400)


def test_list_forms_do_not_list_organisations_or_agreements(client):
    # Public as parties to published agreements, which no activity on the page names.
    for n in range(30):
        AgreementFactory(
            title=f"Accord {n}",
            parties=[OrganisationFactory(name=f"Body {n}"), OrganisationFactory()],
        )
    ActivityFactory(title="Visible")

    for name in ["activity-list", "agreement-list", "organisation-list"]:
        content = get(client, name).content.decode()
        assert "<datalist" not in content
        for select in re.findall(r"<select.*?</select>", content, re.S):
            assert "Body 1" not in select
            assert "Accord 1" not in select
    activity_list = get(client, "activity-list").content.decode()
    assert "Body 1" not in activity_list
    assert "Accord 1" not in activity_list


@pytest.mark.parametrize("typed", ["²", "٣", "-1", "1.5"])
def test_agreement_filter_odd_numbers_match_no_title(client, agreements, typed):
    response = get(client, "activity-list", expect=400, agreement=typed)

    assertContains(response, f"No agreement matches “{typed}”.", status_code=400)


def test_agreement_filter_label_ignores_case(client, agreements):
    first = agreements["first"]

    response = get(
        client, "activity-list", agreement=f"MEMORANDUM OF UNDERSTANDING (NO. {first.pk})"
    )

    assert titles(response) == ["Under first"]


@pytest.mark.parametrize("few_links", [1, 3, 5_000], ids=["walked", "edge", "read"])
def test_linked_filters_list_and_count_the_same_rows_read_from_either_side(
    client, monkeypatch, few_links
):
    """A value with many links walks the list and probes them; one with few reads them."""
    monkeypatch.setattr(models, "FEW_LINKS", few_links)
    area, other = AreaFactory(), AreaFactory()
    organisation = OrganisationFactory()
    for day in range(1, 6):
        activity = ActivityFactory(
            title=f"Day {day}",
            start_date=datetime.date(2020, 1, day) if day != 3 else None,
            areas=[area] if day % 2 else [other],
        )
        for role in [Role.FUNDING, Role.IMPLEMENTING]:  # Twice in one activity: one row.
            ParticipationFactory(activity=activity, organisation=organisation, role=role)
    ActivityFactory(title="Draft", areas=[area], publication=Publication.DRAFT)

    by_area = get(client, "activity-list", area=area.slug)
    by_organisation = get(client, "activity-list", organisation=organisation.slug)

    assert titles(by_area) == ["Day 5", "Day 1", "Day 3"]
    assert by_area.context["result_count"] == 3
    assert titles(by_organisation) == ["Day 5", "Day 4", "Day 2", "Day 1", "Day 3"]
    assert by_organisation.context["result_count"] == 5
    area_page = client.get(reverse("cooperation:area-detail", args=[area.slug]))
    assert area_page.context["activities"].count == 3


@pytest.mark.parametrize("relation", ["areas", "countries", "regions"])
def test_link_tables_give_a_records_activities_from_an_index_alone(relation):
    """The filter's column, then the activity's: no link read from the table itself."""
    field = models.Activity._meta.get_field(relation)
    table = field.remote_field.through._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)

    columns = [c["columns"] for c in constraints.values() if c["index"]]

    assert [field.m2m_reverse_name(), field.m2m_column_name()] in columns


def test_plain_select_writes_what_django_select_renders():
    choices = [("", "Any area"), ("a&b", "Asylum & <reception>"), ("c", "Care")]
    attrs = {"id": "id_area", "aria-describedby": "id_area_helptext", "required": True}

    for value in ["", "a&b", "missing"]:
        expected = forms.Select(choices=choices).render("area", value, attrs)
        written = PlainSelect(choices=choices).render("area", value, attrs)
        assertHTMLEqual(written, expected)
    chosen = PlainSelect(choices=choices).render("area", "a&b", attrs)
    assert '<option value="a&amp;b" selected>Asylum &amp; &lt;reception&gt;</option>' in chosen
