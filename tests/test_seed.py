import datetime
import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError

from cooperation import seed
from cooperation.models import (
    CITED_MODELS,
    QUOTE_MAX_LENGTH,
    Activity,
    Agreement,
    Area,
    Citation,
    Country,
    FacetCount,
    KeptCells,
    NamesVersion,
    Organisation,
    PartnerPair,
    Person,
    Region,
    SeedLoad,
    Source,
)

pytestmark = pytest.mark.django_db

EXPECTED_COUNTS = {
    "organisation": 3,
    "area": 10,
    "region": 2,
    "person": 4,
    "agreement": 1,
    "signatory": 2,
    "activity": 3,
    "participation": 6,
    "source": 1,
    "citation": 33,
    # The release names EASO as it was in 2019 and says nothing of a renaming.
    "formername": 0,
    "formerslug": 0,
}
RELEASE = "iom-easo-working-arrangement-2019-07-22"
AGREEMENT = "iom-easo-working-arrangement-2019"


def cooperation_models():
    """
    The models the seed data fills: all but the record of seed loads itself, the
    countries, which a migration loads, and what is worked out from the rest (partner
    pairs, facet counts, kept export cells and the version of the names they show).
    """
    worked_out = (SeedLoad, Country, PartnerPair, FacetCount, KeptCells, NamesVersion)
    return [
        model
        for model in apps.get_app_config("cooperation").get_models()
        if model not in worked_out
    ]


def load_seed():
    call_command("load_seed", stdout=io.StringIO())


def primary_keys():
    return {
        model._meta.model_name: sorted(model.objects.values_list("pk", flat=True))
        for model in cooperation_models()
    }


def release_text():
    return seed.source_path().read_text(encoding="utf-8")


@pytest.fixture
def seeded():
    load_seed()


def test_seed_file_matches_fresh_build():
    assert seed.seed_path().read_text(encoding="utf-8") == seed.dumps(seed.build_fixture())


def test_seed_fixture_uses_natural_keys_only():
    fixture = seed.build_fixture()

    assert len(fixture) == sum(EXPECTED_COUNTS.values())
    assert not [item for item in fixture if "pk" in item]
    parties = next(item for item in fixture if item["model"] == "cooperation.agreement")
    assert parties["fields"]["parties"] == [["easo"], ["iom"]]


def test_build_seed_check_passes_on_committed_file(capsys):
    call_command("build_seed", "--check")

    assert "is up to date" in capsys.readouterr().out


def test_build_seed_check_fails_on_changed_file(tmp_path):
    output = tmp_path / "seed.json"
    changed = seed.seed_path().read_text(encoding="utf-8").replace("Paris", "Brussels")
    output.write_text(changed, encoding="utf-8")

    with pytest.raises(CommandError, match="out of date"):
        call_command("build_seed", "--check", output=output)
    assert output.read_text(encoding="utf-8") == changed


def test_build_seed_check_fails_on_missing_file(tmp_path):
    output = tmp_path / "seed.json"

    with pytest.raises(CommandError, match="missing"):
        call_command("build_seed", "--check", output=output)
    assert not output.exists()


def test_build_seed_writes_fresh_build(tmp_path):
    output = tmp_path / "seed.json"

    call_command("build_seed", output=output)

    assert output.read_text(encoding="utf-8") == seed.seed_path().read_text(encoding="utf-8")


def test_build_seed_refuses_quote_missing_from_release(tmp_path, monkeypatch):
    changed = tmp_path / "release.txt"
    changed.write_text(release_text().replace("Or: press@", "Or write to: press@"), "utf-8")
    monkeypatch.setattr(seed, "source_path", lambda: changed)

    with pytest.raises(CommandError, match="Quote not found.*“Or: press@easo.europa.eu”"):
        call_command("build_seed", "--check")


def test_build_fixture_refuses_quote_missing_from_release():
    text = release_text().replace("António Vitorino", "Antonio Vitorino")

    with pytest.raises(ValueError, match="Quote not found, letter for letter.*António Vitorino"):
        seed.build_fixture(text)


def test_build_fixture_refuses_straight_apostrophe(monkeypatch):
    monkeypatch.setitem(seed.PEOPLE[0], "cited", ["EASO and the IOM's mandates converge"])

    with pytest.raises(ValueError, match="Quote not found"):
        seed.build_fixture()


def test_check_quote_refuses_overlong_quote():
    text = "word " * QUOTE_MAX_LENGTH

    with pytest.raises(ValueError, match=f"1 to {QUOTE_MAX_LENGTH} characters"):
        seed.check_quote(text[: QUOTE_MAX_LENGTH + 1], text)


def test_seed_load_gives_expected_counts(seeded):
    counts = {model._meta.model_name: model.objects.count() for model in cooperation_models()}

    assert counts == EXPECTED_COUNTS


def test_seed_load_twice_duplicates_nothing(seeded):
    before = primary_keys()

    load_seed()

    assert primary_keys() == before
    assert {name: len(pks) for name, pks in before.items()} == EXPECTED_COUNTS


def test_seed_rows_pass_full_clean(seeded):
    checked = 0
    for model in cooperation_models():
        for row in model.objects.all():
            row.full_clean()
            checked += 1

    assert checked == sum(EXPECTED_COUNTS.values())


def test_seed_citations_quote_their_source(seeded):
    source = Source.objects.get()

    assert source.text == release_text()
    for citation in Citation.objects.all():
        assert citation.source == source
        assert citation.quote in source.text


def test_seed_records_each_have_a_citation(seeded):
    for name in CITED_MODELS:
        model = Citation._meta.get_field(name).related_model
        assert model.objects.exists()
        assert not model.objects.filter(citations__isnull=True).exists(), name


def test_seed_source_facts(seeded):
    source = Source.objects.get(slug=RELEASE)

    assert source.title == "IOM, European Asylum Support Office Sign Working Arrangement"
    assert source.title in source.text
    assert source.published_on == datetime.date(2019, 7, 22)
    assert (source.city, source.country.code, source.url) == ("Paris", "FR", "")
    assert set(source.publishers.values_list("slug", flat=True)) == {"iom", "eu"}


def test_seed_organisation_facts(seeded):
    rows = Organisation.objects.values_list(
        "slug", "name", "acronym", "kind", "parent__slug", "city", "website"
    )

    assert set(rows) == {
        ("iom", "International Organization for Migration", "IOM", "international", None, "", ""),
        ("easo", "European Asylum Support Office", "EASO", "eu-agency", "eu", "", ""),
        ("eu", "European Union", "EU", "supranational", None, "", ""),
    }


def test_seed_area_facts(seeded):
    thematic = "These areas include early warning"
    cross_cutting = "Cross-cutting areas of cooperation"

    assert dict(Area.objects.values_list("name", "kind")) == {
        "Early warning": "thematic",
        "Preparedness and contingency": "thematic",
        "Reception conditions of applicants": "thematic",
        "Returns to countries of origin": "thematic",
        "Resettlement": "thematic",
        "Voluntary relocation": "thematic",
        "Supporting migrants with vulnerabilities and specific protection needs": "thematic",
        "Training initiatives": "cross-cutting",
        "Exchange of expertise": "cross-cutting",
        "Capacity-building for national authorities": "cross-cutting",
    }
    for area in Area.objects.all():
        opening = thematic if area.kind == "thematic" else cross_cutting
        assert [c.quote[: len(opening)] for c in area.citations.all()] == [opening]


def test_seed_region_facts(seeded):
    assert dict(Region.objects.values_list("slug", "name")) == {
        "european-neighbourhood": "European neighbourhood",
        "non-eu-countries": "Non-EU countries",
    }


def test_seed_people_facts(seeded):
    rows = Person.objects.values_list("slug", "name", "organisation__slug", "telephone", "email")

    assert set(rows) == {
        ("nina-gregori", "Nina Gregori", "easo", "", ""),
        ("antonio-vitorino", "António Vitorino", "iom", "", ""),
        ("joel-millman", "Joel Millman", "iom", "+41 79 103 8720", "jmillman@iom.int"),
        ("easo-press-office", "EASO press office", "easo", "", "press@easo.europa.eu"),
    }
    assert Citation.objects.filter(person__isnull=False).count() == 4
    assert Citation.objects.public().count() == EXPECTED_COUNTS["citation"] - 4


def test_seed_agreement_facts(seeded):
    agreement = Agreement.objects.get(slug=AGREEMENT)

    assert agreement.title == (
        "Working Arrangement between the European Asylum Support Office "
        "and the International Organization for Migration"
    )
    assert agreement.kind == "working-arrangement"
    assert agreement.signed_on == datetime.date(2019, 7, 22)
    assert (agreement.city, agreement.country.code) == ("Paris", "FR")
    assert set(agreement.parties.values_list("slug", flat=True)) == {"easo", "iom"}
    assert agreement.areas.count() == 10
    assert agreement.supersedes is None
    assert "formal framework" in agreement.summary
    signatories = agreement.signatories.values_list("person__name", "title", "organisation__slug")
    assert set(signatories) == {
        ("Nina Gregori", "Executive Director", "easo"),
        ("António Vitorino", "Director General", "iom"),
    }


def test_seed_agreement_cites_signing_and_statements(seeded):
    citations = Agreement.objects.get(slug=AGREEMENT).citations
    gregori = citations.get(note__startswith="Statement by Nina Gregori")
    vitorino = citations.get(note__startswith="Statement by António Vitorino")

    assert citations.filter(quote__startswith="The Working Arrangement was signed today").exists()
    assert citations.filter(quote__contains="formal cooperation framework").exists()
    assert gregori.quote.startswith("EASO and the IOM have worked together for several years")
    assert gregori.quote.endswith("in migration and asylum management.")
    assert vitorino.quote.startswith("Partnership between IOM and EASO")
    assert vitorino.quote.endswith("our shared Member States")
    for statement in [gregori, vitorino]:
        assert f"“{statement.quote}”" in statement.source.text


def test_seed_activity_facts(seeded):
    activities = Activity.objects.public()

    assert activities.count() == 3
    for activity in activities:
        assert (activity.status, activity.start_date, activity.end_date) == (
            "implementation",
            None,
            None,
        )
        assert activity.agreement is None
        assert set(activity.participations.values_list("organisation__slug", "role")) == {
            ("easo", "implementing"),
            ("iom", "implementing"),
        }
        assert activity.citations.count() == 2
    rows = {
        activity.slug: (
            activity.title,
            set(activity.areas.values_list("slug", flat=True)),
            set(activity.regions.values_list("slug", flat=True)),
        )
        for activity in activities
    }
    assert rows == {
        "joint-training-national-authorities": (
            "Joint training to national authorities",
            {"training-initiatives"},
            {"european-neighbourhood"},
        ),
        "resettlement-coordination": (
            "Coordination of resettlement from non-EU countries to the EU",
            {"resettlement"},
            {"european-neighbourhood", "non-eu-countries"},
        ),
        "data-information-exchange": (
            "Exchange of data, information and documentation",
            set(),
            {"european-neighbourhood"},
        ),
    }
