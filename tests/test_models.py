import datetime
import json

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from cooperation.models import (
    ORGANISATION_DEPTH,
    QUOTE_MAX_LENGTH,
    Activity,
    ActivityStatus,
    Agreement,
    Area,
    Citation,
    Organisation,
    OrganisationKind,
    Publication,
    Region,
    Role,
    Signatory,
    Source,
    quote_found,
)

from .factories import (
    ActivityFactory,
    AgreementFactory,
    AreaFactory,
    CitationFactory,
    OrganisationFactory,
    ParticipationFactory,
    PersonFactory,
    RegionFactory,
    SignatoryFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db


def refused(model_or_instance, **fields):
    """Save a row that breaks a rule, bypassing forms, and return the database's error."""
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        if isinstance(model_or_instance, type):
            model_or_instance.objects.create(**fields)
        else:
            for name, value in fields.items():
                setattr(model_or_instance, name, value)
            model_or_instance.save()
    return str(excinfo.value)


@pytest.mark.parametrize(
    ("factory", "field"),
    [
        (OrganisationFactory, "kind"),
        (AreaFactory, "kind"),
        (AgreementFactory, "kind"),
        (ActivityFactory, "status"),
        (ActivityFactory, "publication"),
        (ParticipationFactory, "role"),
    ],
)
def test_choices_unknown_value_refused(factory, field):
    row = factory()

    assert f"{field}_valid" in refused(row, **{field: "bogus"})
    with pytest.raises(ValidationError) as excinfo:
        row.full_clean()
    assert field in excinfo.value.message_dict


def test_organisation_own_parent_refused():
    organisation = OrganisationFactory()

    assert "not_own_parent" in refused(organisation, parent=organisation)


def test_organisation_slug_unique():
    OrganisationFactory(slug="iom")

    assert "slug" in refused(
        OrganisationFactory._meta.model, name="Other", slug="iom", kind="other"
    )


def test_organisation_name_unique_ignoring_case():
    OrganisationFactory(name="International Organization for Migration")

    assert "name_unique_ignoring_case" in refused(
        OrganisationFactory._meta.model,
        name="INTERNATIONAL organization for migration",
        slug="iom",
        kind="international",
    )


def test_organisation_name_differing_only_in_case_is_validation_error():
    OrganisationFactory(name="European Union Agency for Asylum")
    twin = OrganisationFactory.build(name="European union agency for asylum")

    with pytest.raises(ValidationError) as excinfo:
        twin.full_clean()

    assert excinfo.value.messages == [
        "An organisation with this name already exists (capitals aside)."
    ]


@pytest.mark.parametrize(
    ("name", "acronym", "found"),
    [
        pytest.param("European Union Agency for Asylum", "", True, id="same-name"),
        pytest.param("european union agency for asylum", "", True, id="name-case"),
        pytest.param("European Union  Agency for Asylum", "", True, id="name-spacing"),
        pytest.param("EuropeanUnion Agency forAsylum", "", True, id="name-spaces-dropped"),
        pytest.param("Asylum agency", "euaa", True, id="acronym-case"),
        pytest.param("European Union Agency for Asylum Support", "", False, id="longer-name"),
        pytest.param("Asylum agency", "EUA", False, id="other-acronym"),
        pytest.param("Asylum agency", "", False, id="no-acronym"),
    ],
)
def test_organisation_resembling(name, acronym, found):
    euaa = OrganisationFactory(name="European Union Agency for Asylum", acronym="EUAA")
    OrganisationFactory(name="Asylum Agency Two", acronym="")

    assert list(Organisation.objects.resembling(name, acronym)) == ([euaa] if found else [])


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (OrganisationKind.INTERNATIONAL, "40"),
        (OrganisationKind.EU_AGENCY, "40"),
        (OrganisationKind.NATIONAL_AUTHORITY, "10"),
        (OrganisationKind.INTERNATIONAL_NGO, "21"),
        (OrganisationKind.ACADEMIC, "80"),
        (OrganisationKind.OTHER, "90"),
    ],
)
def test_organisation_kind_iati_code(kind, code):
    assert OrganisationFactory.build(kind=kind).iati_type == code


def test_every_organisation_kind_has_iati_code():
    assert {kind.iati_code for kind in OrganisationKind} <= {"10", "21", "22", "40", "80", "90"}


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (ActivityStatus.PIPELINE, "1"),
        (ActivityStatus.IMPLEMENTATION, "2"),
        (ActivityStatus.SUSPENDED, "6"),
    ],
)
def test_activity_status_iati_code(status, code):
    assert status.iati_code == code


@pytest.mark.parametrize(
    ("role", "code"), [(Role.FUNDING, "1"), (Role.EXTENDING, "3"), (Role.IMPLEMENTING, "4")]
)
def test_role_iati_code(role, code):
    assert role.iati_code == code


def test_agreement_superseding_itself_refused():
    agreement = AgreementFactory()

    assert "not_superseding_itself" in refused(agreement, supersedes=agreement)


def test_activity_end_before_start_refused():
    activity = ActivityFactory(start_date=datetime.date(2020, 1, 2))

    assert "ends_after_start" in refused(activity, end_date=datetime.date(2020, 1, 1))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (None, None),
        (datetime.date(2020, 1, 1), None),
        (None, datetime.date(2020, 1, 1)),
        (datetime.date(2020, 1, 1), datetime.date(2020, 1, 1)),
    ],
)
def test_activity_open_or_same_day_dates_allowed(start, end):
    ActivityFactory(start_date=start, end_date=end).full_clean()


def test_activity_end_before_start_form_error():
    activity = ActivityFactory.build(
        start_date=datetime.date(2020, 1, 2), end_date=datetime.date(2020, 1, 1)
    )

    with pytest.raises(ValidationError, match="The end date is before the start date."):
        activity.full_clean()


def test_activity_public_excludes_drafts():
    published = ActivityFactory()
    ActivityFactory(publication=Publication.DRAFT)

    assert list(Activity.objects.public()) == [published]


def test_agreement_public_excludes_drafts():
    published = AgreementFactory()
    AgreementFactory(publication=Publication.DRAFT)

    assert list(Agreement.objects.public()) == [published]


def draft_referring_to(record):
    """A draft agreement or activity that refers to `record`, the only one to."""
    if isinstance(record, Organisation):
        return AgreementFactory(publication=Publication.DRAFT, parties=[record])
    if isinstance(record, Area):
        draft = AgreementFactory(publication=Publication.DRAFT)
        draft.areas.set([record])
        return draft
    return ActivityFactory(publication=Publication.DRAFT, regions=[record])


@pytest.mark.parametrize("factory", [OrganisationFactory, AreaFactory, RegionFactory])
def test_public_once_a_referring_agreement_or_activity_is_published(factory):
    record = factory()
    factory()  # another, which nothing refers to
    draft = draft_referring_to(record)
    public = type(record).objects.public

    assert list(public()) == []
    draft.publication = Publication.PUBLISHED
    draft.save()
    assert list(public()) == [record]


def test_area_public_through_published_activity():
    area = AreaFactory()
    activity = ActivityFactory(publication=Publication.DRAFT, areas=[area])

    assert list(Area.objects.public()) == []
    activity.publication = Publication.PUBLISHED
    activity.save()
    assert list(Area.objects.public()) == [area]


def test_region_not_public_through_agreement_or_citation():
    region = RegionFactory()
    CitationFactory(region=region)

    assert list(Region.objects.public()) == []


def test_organisation_public_through_published_activity():
    participation = ParticipationFactory(activity__publication=Publication.DRAFT)

    assert list(Organisation.objects.public()) == []
    participation.activity.publication = Publication.PUBLISHED
    participation.activity.save()
    assert list(Organisation.objects.public()) == [participation.organisation]


def test_organisation_ancestors_public_up_to_depth():
    chain = [ParticipationFactory().organisation]
    for _ in range(ORGANISATION_DEPTH + 1):
        chain.append(OrganisationFactory())
        chain[-2].parent = chain[-1]
        chain[-2].save()
    OrganisationFactory(parent=chain[1])  # a sibling of the public one: not public

    assert set(Organisation.objects.public()) == set(chain[:-1])
    annotated = Organisation.objects.with_public_parent()
    assert [annotated.get(pk=row.pk).parent_is_public for row in chain] == [
        *[True] * ORGANISATION_DEPTH,
        False,
        False,
    ]


def test_organisation_publisher_public_when_source_cited_on_published_record():
    publisher = OrganisationFactory()
    source = SourceFactory()
    source.publishers.set([publisher])
    activity = ActivityFactory(publication=Publication.DRAFT)
    CitationFactory(source=source, activity=activity)
    CitationFactory(source=source, person=PersonFactory(organisation=None))

    assert list(Organisation.objects.public()) == []
    activity.publication = Publication.PUBLISHED
    activity.save()
    assert list(Organisation.objects.public()) == [publisher]


def test_organisation_unrelated_to_anything_published_not_public():
    ParticipationFactory(organisation__name="Taking part")
    OrganisationFactory(name="Alone")
    SignatoryFactory(agreement__publication=Publication.DRAFT, person__name="Signs a draft")

    assert [str(row) for row in Organisation.objects.public()] == ["Taking part"]


def test_signatory_for_parties_leaves_out_signatures_for_others():
    party = OrganisationFactory()
    agreement = AgreementFactory(parties=[party])
    for_party = SignatoryFactory(agreement=agreement, person__organisation=party)
    SignatoryFactory(agreement=agreement)
    SignatoryFactory(person__organisation=party)  # a party elsewhere, not here

    assert list(Signatory.objects.filter(agreement=agreement).for_parties()) == [for_party]


def test_activity_involving_matches_organisation_in_role():
    organisation = OrganisationFactory()
    funded = ParticipationFactory(organisation=organisation, role=Role.FUNDING).activity
    implemented = ParticipationFactory(organisation=organisation).activity
    ParticipationFactory()

    assert set(Activity.objects.involving(organisation)) == {funded, implemented}
    assert list(Activity.objects.involving(organisation, Role.FUNDING)) == [funded]


def unique_refused(instance):
    """The database refuses `instance`, and model validation says why."""
    with pytest.raises(ValidationError) as excinfo:
        instance.validate_constraints()
    with pytest.raises(IntegrityError), transaction.atomic():
        instance.save()
    return excinfo.value.messages


def test_participation_same_role_twice_refused():
    participation = ParticipationFactory()
    again = ParticipationFactory.build(
        activity=participation.activity,
        organisation=participation.organisation,
        role=participation.role,
    )

    assert unique_refused(again) == [
        "Participation with this Activity, Organisation and Role already exists."
    ]


def test_signatory_twice_on_one_agreement_refused():
    signatory = SignatoryFactory()
    again = SignatoryFactory.build(
        agreement=signatory.agreement,
        person=signatory.person,
        organisation=signatory.organisation,
    )

    assert unique_refused(again) == ["Signatory with this Agreement and Person already exists."]


def test_citation_without_record_refused():
    assert "cites_one_record" in refused(Citation, source=SourceFactory(), quote="training")


def test_citation_with_two_records_refused():
    assert "cites_one_record" in refused(
        Citation,
        source=SourceFactory(),
        quote="training",
        organisation=OrganisationFactory(),
        area=AreaFactory(),
    )


@pytest.mark.parametrize("length", [0, QUOTE_MAX_LENGTH + 1])
def test_citation_quote_length_refused(length):
    source = SourceFactory(text="x" * (QUOTE_MAX_LENGTH + 1))

    assert "quote_length" in refused(
        Citation, source=source, quote="x" * length, organisation=OrganisationFactory()
    )


def test_citation_same_quote_twice_on_one_record_refused():
    citation = CitationFactory(area=AreaFactory())
    again = CitationFactory.build(source=citation.source, quote=citation.quote, area=citation.area)

    assert unique_refused(again) == ["This area already cites this quote."]


def test_citation_same_quote_on_two_records_allowed():
    citation = CitationFactory(area=AreaFactory())

    CitationFactory(source=citation.source, quote=citation.quote, area=AreaFactory())


def test_citation_quote_not_in_source_is_validation_error():
    citation = CitationFactory.build(
        source=SourceFactory(), quote="work together on trade", person=PersonFactory()
    )

    with pytest.raises(ValidationError) as excinfo:
        citation.full_clean()
    assert list(excinfo.value.message_dict) == ["quote"]
    (message,) = excinfo.value.message_dict["quote"]
    assert message.startswith("This quote does not occur, letter for letter, in the source's text.")


def test_citation_quote_in_source_is_valid():
    CitationFactory(activity=ActivityFactory()).full_clean()


#: A source as a file holds it, lines ending in LF, and a quote across two of its lines.
LINES = "Article 1\nThe parties train border guards\ntogether, in three countries.\n"
QUOTE_LF = "train border guards\ntogether"


@pytest.mark.parametrize(
    ("quote", "found"),
    [
        ("train border guards\ntogether", True),
        ("train border guards\r\ntogether", True),
        ("train border guards\rtogether", True),
        ("train border guards together", False),
        ("train border  guards\ntogether", False),
        ("train border guards \ntogether", False),
        ("train border guards\n\ntogether", False),
        ("train border guards\ntogether,", True),
        ("train border guards\ntogether.", False),
        ("Train border guards\ntogether", False),
    ],
)
def test_quote_found_forgives_line_endings_only(quote, found):
    assert quote_found(quote, LINES) is found
    assert quote_found(quote, LINES.replace("\n", "\r\n")) is found


def test_citation_multi_line_quote_with_crlf_is_valid_and_saved_with_lf():
    citation = CitationFactory.build(
        source=SourceFactory(text=LINES.replace("\n", "\r\n")),
        quote=QUOTE_LF.replace("\n", "\r\n"),
        activity=ActivityFactory(),
    )

    citation.full_clean()
    citation.save()

    assert citation.quote == QUOTE_LF
    assert citation.source.text == LINES
    assert Citation.objects.values_list("quote", flat=True).get() == QUOTE_LF
    assert Source.objects.values_list("text", flat=True).get() == LINES


def test_line_endings_unified_by_save_in_memory_too():
    source = SourceFactory(text="One\rTwo\r\nThree")

    assert source.text == "One\nTwo\nThree"


def test_line_endings_unified_by_bulk_create():
    sources = Source.objects.bulk_create(
        [Source(slug=f"bulk-{n}", title="Bulk", text=f"Line {n}\r\nNext\rLast") for n in range(2)]
    )
    Citation.objects.bulk_create(
        [Citation(source=source, quote="Next\r\nLast", area=AreaFactory()) for source in sources]
    )

    assert set(Source.objects.values_list("text", flat=True)) == {
        "Line 0\nNext\nLast",
        "Line 1\nNext\nLast",
    }
    assert set(Citation.objects.values_list("quote", flat=True)) == {"Next\nLast"}
    assert [source.text for source in sources] == ["Line 0\nNext\nLast", "Line 1\nNext\nLast"]


def test_line_endings_unified_by_queryset_update():
    citation = CitationFactory(area=AreaFactory(), source__text=LINES)

    Source.objects.update(text=LINES.replace("\n", "\r"))
    Citation.objects.update(quote=QUOTE_LF.replace("\n", "\r\n"))

    citation.refresh_from_db()
    assert citation.quote == QUOTE_LF
    assert citation.source.text == LINES


def test_line_endings_unified_by_bulk_update():
    citation = CitationFactory(area=AreaFactory(), source__text=LINES)
    citation.quote = QUOTE_LF.replace("\n", "\r\n")

    Citation.objects.bulk_update([citation], ["quote"])

    assert Citation.objects.values_list("quote", flat=True).get() == QUOTE_LF


def test_line_endings_unified_by_loaddata(tmp_path):
    fixture = tmp_path / "sources.json"
    fixture.write_text(
        json.dumps(
            [
                {
                    "model": "cooperation.area",
                    "fields": {"name": "Training", "slug": "training"},
                },
                {
                    "model": "cooperation.source",
                    "fields": {
                        "slug": "release",
                        "title": "Release",
                        "text": LINES.replace("\n", "\r\n"),
                    },
                },
                {
                    "model": "cooperation.citation",
                    "fields": {
                        "source": ["release"],
                        "area": ["training"],
                        "quote": QUOTE_LF.replace("\n", "\r"),
                    },
                },
            ]
        )
    )

    call_command("loaddata", fixture, verbosity=0)

    assert Source.objects.get(slug="release").text == LINES
    assert Citation.objects.get().quote == QUOTE_LF


def test_citation_lookup_by_quote_forgives_line_endings():
    citation = CitationFactory(area=AreaFactory(), source__text=LINES, quote=QUOTE_LF)

    assert Citation.objects.get(quote=QUOTE_LF.replace("\n", "\r\n")) == citation
    assert (
        Citation.objects.get_by_natural_key(
            citation.source.slug, "area", citation.area.slug, QUOTE_LF.replace("\n", "\r")
        )
        == citation
    )


@pytest.mark.parametrize(
    ("table", "column", "constraint"),
    [
        ("cooperation_source", "text", "cooperation_source_text_without_carriage_return"),
        ("cooperation_citation", "quote", "cooperation_citation_quote_without_carriage_return"),
    ],
)
@pytest.mark.parametrize("ending", ["\r\n", "\r"])
def test_carriage_return_written_around_the_orm_refused(table, column, constraint, ending):
    citation = CitationFactory(area=AreaFactory(), source__text=LINES, quote=QUOTE_LF)

    with (
        pytest.raises(IntegrityError) as excinfo,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"UPDATE {table} SET {column} = %s", [QUOTE_LF.replace("\n", ending)])

    assert constraint in str(excinfo.value)
    citation.refresh_from_db()
    assert citation.quote == QUOTE_LF


def test_line_feeds_alone_allowed_around_the_orm():
    citation = CitationFactory(area=AreaFactory(), source__text=LINES, quote=QUOTE_LF)

    with connection.cursor() as cursor:
        cursor.execute("UPDATE cooperation_citation SET quote = %s", ["guards\ntogether"])

    citation.refresh_from_db()
    assert citation.quote == "guards\ntogether"


def test_citation_natural_key_round_trip():
    citation = CitationFactory(agreement=AgreementFactory(slug="wa"))

    assert citation.natural_key() == (citation.source.slug, "agreement", "wa", citation.quote)
    assert Citation.objects.get_by_natural_key(*citation.natural_key()) == citation


def test_citation_public_hides_people():
    organisation = ParticipationFactory().organisation
    public = CitationFactory(organisation=organisation)
    CitationFactory(person=PersonFactory(organisation=organisation))

    assert list(Citation.objects.public()) == [public]


@pytest.mark.parametrize(
    "factory",
    [
        lambda: {"activity": ActivityFactory(publication=Publication.DRAFT)},
        lambda: {"agreement": AgreementFactory(publication=Publication.DRAFT)},
        lambda: {"organisation": OrganisationFactory()},
        lambda: {"area": AreaFactory()},
        lambda: {"region": RegionFactory()},
    ],
)
def test_citation_public_excludes_records_not_public(factory):
    public = CitationFactory(activity=ActivityFactory())
    CitationFactory(**factory())

    assert list(Citation.objects.public()) == [public]


@pytest.mark.parametrize(
    ("factory", "expected"),
    [
        (
            lambda: OrganisationFactory(name="International Organization for Migration"),
            "International Organization for Migration",
        ),
        (lambda: AreaFactory(name="Resettlement"), "Resettlement"),
        (lambda: ActivityFactory(title="Joint training"), "Joint training"),
        (
            lambda: SignatoryFactory(person__name="Nina Gregori", title="Executive Director"),
            "Nina Gregori, Executive Director",
        ),
        (
            lambda: ParticipationFactory(organisation__name="IOM", role=Role.FUNDING),
            "IOM (funding)",
        ),
    ],
)
def test_str(factory, expected):
    assert str(factory()) == expected


#: Where each model's slug shows, as its help text must tell staff.
SLUG_USES = {
    "organisation": "/organisations/iom/",
    "area": "/areas/training/",
    "region": "public links to activities filtered by region",
    "person": "Not shown publicly",
    "agreement": "Not shown publicly",
    "activity": "Not shown publicly",
    "source": "Not shown publicly",
    "formerslug": "Deleting it breaks links to the old address",
}
COOPERATION_MODELS = list(apps.get_app_config("cooperation").get_models())


def test_slug_help_text_says_where_the_slug_appears():
    with_slug = {
        model._meta.model_name: model._meta.get_field("slug").help_text
        for model in COOPERATION_MODELS
        if any(field.name == "slug" for field in model._meta.fields)
    }

    assert with_slug.keys() == SLUG_USES.keys()
    for model_name, help_text in with_slug.items():
        assert SLUG_USES[model_name] in help_text, model_name


@pytest.mark.parametrize(
    ("view", "slug"),
    [("organisation-detail", "iom"), ("area-detail", "training"), ("region-detail", "sahel")],
)
def test_slug_help_text_example_address_is_real(view, slug):
    model = apps.get_model("cooperation", view.removesuffix("-detail"))

    assert reverse(f"cooperation:{view}", args=[slug]) in model._meta.get_field("slug").help_text


def test_help_texts_are_plain_text():
    """The admin renders help text as HTML: an address such as /organisations/<slug>/ vanishes."""
    help_texts = [
        field.help_text
        for model in COOPERATION_MODELS
        for field in model._meta.get_fields()
        if getattr(field, "help_text", "")
    ]

    assert help_texts
    assert not [text for text in help_texts if "<" in text or "&" in text]


def test_public_organisations_queryset_built_earlier_follows_later_changes():
    """The public ids are read when the query runs: a filter's choices built once stay current."""
    listed = Organisation.objects.public()
    organisation = OrganisationFactory()
    assert organisation not in list(listed.all())

    ParticipationFactory(activity=ActivityFactory(), organisation=organisation)

    assert organisation in list(listed.all())
    assert set(Organisation.objects.public()) == set(Organisation.objects.by_rule())
