"""No e-mail address or telephone number in any text a visitor can read."""

import pytest
from django.core.exceptions import ValidationError
from django.utils.html import escape
from pytest_django.asserts import assertContains

from cooperation.management.commands import generate_demo
from cooperation.models import Citation, Organisation, Person
from cooperation.privacy import contact_details

from .factories import (
    ActivityFactory,
    AgreementFactory,
    AreaFactory,
    CitationFactory,
    OrganisationFactory,
    PersonFactory,
    RegionFactory,
    SourceFactory,
)
from .test_admin import admin_url, inline_prefix, inline_rows, organisation_data

CONTACT_LINE = (
    "For more information please contact Joel Millman, IOM Geneva, "
    "Tel.: +41 79 103 8720; Email: jmillman@iom.int"
)
RELEASE = f"IOM and EASO signed a Working Arrangement on 22 Jul 2019.\n{CONTACT_LINE}\n"
FOUND = "“Tel.: +41 79 103 8720”, “jmillman@iom.int”"

REFUSED = [
    (CONTACT_LINE, ["Tel.: +41 79 103 8720", "jmillman@iom.int"]),
    ("Or: press@easo.europa.eu", ["press@easo.europa.eu"]),
    ("Write to first.last+news@agency.europa.eu.", ["first.last+news@agency.europa.eu"]),
    ("Tel. 022 717 9111", ["Tel. 022 717 9111"]),
    ("Telephone: (022) 717-9111", ["Telephone: (022) 717-9111"]),
    ("phone 717 91 11", ["phone 717 91 11"]),
    ("Fax: +32 2 555 12 34", ["Fax: +32 2 555 12 34"]),
    ("Mobile +41791038720", ["Mobile +41791038720"]),
    ("Call +32 2 555 12 34 for details.", ["+32 2 555 12 34"]),
    ("the hotline +33.1.40.20.50.50", ["+33.1.40.20.50.50"]),
    ("+1 (202) 555-0143", ["+1 (202) 555-0143"]),
]
ACCEPTED = [
    "22 Jul 2019",
    "signed on 22.07.2019 in Paris",
    "from 2019 to 2021, and again in 2022-2024",
    "Regulation (EU) No 439/2010 of the European Parliament and of the Council",
    "Directive 2013/32/EU and Council Decision (CFSP) 2020/472",
    "a budget of EUR 1 500 000 (€1.5 million), or 1,500,000 euros",
    "up 12.5% on 2018, with + 3 posts",
    "the 112 emergency telephone number",
    "Tel Aviv and the phone company",
    "UNSCR 2292 (2016), renewed until 4 June 2021",
    "published 2026-11-28T12:15:23+00:00",
]


@pytest.mark.parametrize(("text", "found"), REFUSED)
def test_contact_details_found(text, found):
    assert contact_details(text) == found


@pytest.mark.parametrize("text", ACCEPTED)
def test_contact_details_not_found_in_dates_numbers_and_amounts(text):
    assert contact_details(text) == []


def test_generate_demo_words_hold_no_contact_details():
    # Synthetic texts are made of these words and of record numbers, nothing else.
    words = [
        *generate_demo.ACTIONS,
        *generate_demo.TOPICS,
        *generate_demo.PLACES,
        *generate_demo.SENTENCES,
        *generate_demo.AREAS,
        *generate_demo.ORGANISATION_WORDS,
    ]

    assert [word for word in words if "@" in word or "+" in word or contact_details(word)] == []


def release_citation(quote=CONTACT_LINE, **cited):
    return Citation(source=SourceFactory(text=RELEASE), quote=quote, **cited)


PUBLIC_RECORDS = {
    "organisation": OrganisationFactory,
    "area": AreaFactory,
    "region": RegionFactory,
    "agreement": AgreementFactory,
    "activity": ActivityFactory,
}


@pytest.mark.django_db
@pytest.mark.parametrize("cited", PUBLIC_RECORDS)
def test_citation_of_public_record_quoting_contact_details_refused(cited):
    citation = release_citation(**{cited: PUBLIC_RECORDS[cited]()})

    with pytest.raises(ValidationError) as error:
        citation.full_clean()

    assert FOUND in error.value.message_dict["quote"][0]


@pytest.mark.django_db
def test_citation_note_with_contact_details_refused():
    citation = CitationFactory.build(
        source=SourceFactory(), organisation=OrganisationFactory(), note="Ask press@iom.int"
    )

    with pytest.raises(ValidationError) as error:
        citation.full_clean()

    assert list(error.value.message_dict) == ["note"]


@pytest.mark.django_db
@pytest.mark.parametrize("text", ACCEPTED)
def test_citation_of_public_record_with_dates_numbers_and_amounts_accepted(text):
    source = SourceFactory(text="\n".join(ACCEPTED))

    Citation(source=source, quote=text, note=text, organisation=OrganisationFactory()).full_clean()


@pytest.mark.django_db
def test_citation_of_person_may_quote_contact_details():
    release_citation(person=PersonFactory()).full_clean()


PUBLIC_TEXTS = [
    (OrganisationFactory, "description"),
    (AreaFactory, "description"),
    (RegionFactory, "description"),
    (AgreementFactory, "summary"),
    (ActivityFactory, "description"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("factory", "field"), PUBLIC_TEXTS)
@pytest.mark.parametrize(("text", "found"), REFUSED[:3])
def test_public_text_with_contact_details_refused(factory, field, text, found):
    record = factory.build(**{field: f"Joint work. {text}"})

    with pytest.raises(ValidationError) as error:
        record.clean()

    assert list(error.value.message_dict) == [field]
    for detail in found:
        assert f"“{detail}”" in error.value.message_dict[field][0]


@pytest.mark.django_db
@pytest.mark.parametrize(("factory", "field"), PUBLIC_TEXTS)
@pytest.mark.parametrize("text", ACCEPTED)
def test_public_text_with_dates_numbers_and_amounts_accepted(factory, field, text):
    factory.build(**{field: text}).clean()


@pytest.mark.django_db
def test_admin_citation_inline_quoting_contact_details_names_them(admin_client):
    organisation = OrganisationFactory(name="International Organization for Migration")
    source = SourceFactory(text=RELEASE)
    url = admin_url(Organisation, "change", organisation.pk)
    prefix = inline_prefix(admin_client.get(url), Citation)
    data = organisation_data(
        admin_client,
        url,
        name=organisation.name,
        acronym="IOM",
        slug=organisation.slug,
        **inline_rows(prefix, [{"source": source.pk, "quote": CONTACT_LINE}]),
    )

    response = admin_client.post(url, data)

    assertContains(response, escape(FOUND))
    assert not Citation.objects.exists()


@pytest.mark.django_db
def test_admin_description_with_contact_details_names_them(admin_client):
    url = admin_url(Organisation, "add")

    response = admin_client.post(
        url, organisation_data(admin_client, url, description="Press: press@euaa.europa.eu")
    )

    assertContains(response, escape("“press@euaa.europa.eu”"))
    assert not Organisation.objects.exists()


@pytest.mark.django_db
def test_admin_new_person_saved_with_the_contact_line_cited(admin_client):
    source = SourceFactory(text=RELEASE)
    url = admin_url(Person, "add")
    prefix = inline_prefix(admin_client.get(url), Citation)

    response = admin_client.post(
        url,
        {
            "name": "Joel Millman",
            "slug": "joel-millman",
            "telephone": "+41 79 103 8720",
            "email": "jmillman@iom.int",
            **inline_rows(prefix, [{"source": source.pk, "quote": CONTACT_LINE}]),
        },
    )

    assert response.status_code == 302
    assert Citation.objects.get().person == Person.objects.get()
