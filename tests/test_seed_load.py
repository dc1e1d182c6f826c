"""
`manage.py load_seed`: the seed data never overwrites staff work.

Staff work in these tests: EASO's description is edited, and the area "Early
warning" is deleted (an area, because deleting a seeded organisation would
first take deleting the people, signatories, participations and child
organisations that PROTECT it; deleting the area takes its citation with it).
"""

import hashlib
import io
import json

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.serializers.base import DeserializationError
from django.urls import reverse
from pytest_django.asserts import assertContains
from reversion.models import Version

from cooperation import seed
from cooperation.models import (
    Agreement,
    Area,
    Citation,
    Country,
    FacetCount,
    KeptCells,
    NamesVersion,
    Organisation,
    PartnerPair,
    SeedLoad,
)

pytestmark = pytest.mark.django_db

SEED_ROWS = 65
EDITED = "Now the European Union Agency for Asylum (EUAA)."
DELETED = "early-warning"
UNHCR = {
    "model": "cooperation.organisation",
    "fields": {"slug": "unhcr", "name": "UN Refugee Agency", "acronym": "UNHCR", "kind": "other"},
}

#: A row that comes before the row it refers to.
UNHCR_EUROPE = {
    "model": "cooperation.organisation",
    "fields": {
        "slug": "unhcr-europe",
        "name": "UNHCR Europe",
        "kind": "other",
        "parent": ["unhcr"],
    },
}


def load_seed(*args, **options):
    out = io.StringIO()
    call_command("load_seed", *args, stdout=out, **options)
    return out.getvalue()


def seed_items():
    return json.loads(seed.seed_path().read_text(encoding="utf-8"))


def write_seed(tmp_path, items):
    """A seed file holding `items`, and its version."""
    path = tmp_path / "seed.json"
    path.write_text(seed.dumps(items), encoding="utf-8")
    return path, hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def counts():
    return {
        model._meta.model_name: model.objects.count()
        for model in apps.get_app_config("cooperation").get_models()
        # Reference data that a migration loads, and what is worked out from the seed.
        if model not in {Country, PartnerPair, FacetCount, KeptCells, NamesVersion}
    }


def easo():
    return Organisation.objects.get(slug="easo")


@pytest.fixture
def version():
    return hashlib.sha256(seed.seed_path().read_bytes()).hexdigest()[:12]


@pytest.fixture
def staff_work():
    """The seed loaded, then EASO's description edited and the area Early warning deleted."""
    load_seed()
    Organisation.objects.filter(slug="easo").update(description=EDITED)
    Area.objects.get(slug=DELETED).delete()


def test_load_seed_fills_empty_database(version):
    out = load_seed()

    assert out == (
        f"Added {SEED_ROWS} rows new in seed version {version}; left 0 existing rows as they are.\n"
    )
    load = SeedLoad.objects.get()
    assert (load.version, load.reset) == (version, False)
    assert sum(len(keys) for keys in load.natural_keys.values()) == SEED_ROWS
    assert ["easo"] in load.natural_keys["cooperation.organisation"]
    assert sum(counts().values()) == SEED_ROWS + 1


def test_load_seed_again_keeps_staff_work(staff_work, version):
    out = load_seed()

    assert out == f"Seed data version {version} already loaded: nothing to do.\n"
    assert easo().description == EDITED
    assert not Area.objects.filter(slug=DELETED).exists()
    assert not Citation.objects.filter(area__slug=DELETED).exists()


def test_load_seed_same_version_changes_nothing(staff_work):
    before = counts(), list(SeedLoad.objects.values())

    load_seed()

    assert (counts(), list(SeedLoad.objects.values())) == before
    assert before[0]["seedload"] == 1


def test_load_seed_newer_version_adds_only_new_rows(staff_work, version, tmp_path):
    path, newer = write_seed(tmp_path, [UNHCR, *seed_items()])
    before = counts()

    out = load_seed(fixture=path)

    assert out.splitlines() == [
        "Skipped cooperation.citation “These areas include early warning, preparedness an”: "
        f"it refers to cooperation.area {DELETED}, which staff deleted.",
        f"Added 1 row new in seed version {newer}; left {SEED_ROWS - 2} existing rows as they are.",
        "Did not restore 1 row that staff deleted.",
    ]
    assert counts() == {**before, "organisation": before["organisation"] + 1, "seedload": 2}
    assert Organisation.objects.get(slug="unhcr").name == "UN Refugee Agency"
    assert easo().description == EDITED
    assert not Area.objects.filter(slug=DELETED).exists()
    assert list(SeedLoad.objects.values_list("version", "natural_keys")) == [
        (newer, {"cooperation.organisation": [["unhcr"]]}),
        (version, SeedLoad.objects.get(version=version).natural_keys),
    ]
    assert load_seed(fixture=path) == f"Seed data version {newer} already loaded: nothing to do.\n"


def test_load_seed_newer_version_skips_new_rows_referring_to_deleted_row(staff_work, tmp_path):
    drills = {
        "model": "cooperation.activity",
        "fields": {"slug": "drills", "title": "Early-warning drills", "areas": [[DELETED]]},
    }
    release = seed.SOURCE["slug"]
    citation = {
        "model": "cooperation.citation",
        "fields": {"source": [release], "activity": ["drills"], "quote": "early warning"},
    }
    path, newer = write_seed(tmp_path, [*seed_items(), drills, UNHCR, citation])
    before = counts()

    out = load_seed(fixture=path)

    assert (
        "Skipped cooperation.activity “drills”: "
        f"it refers to cooperation.area {DELETED}, which staff deleted.\n"
    ) in out
    assert (
        "Skipped cooperation.citation “early warning”: "
        "it refers to cooperation.activity drills, not in the database.\n"
    ) in out
    assert f"Added 1 row new in seed version {newer};" in out
    assert counts() == {**before, "organisation": before["organisation"] + 1, "seedload": 2}
    assert SeedLoad.objects.latest().natural_keys == {"cooperation.organisation": [["unhcr"]]}


def test_load_seed_newer_version_adds_row_before_the_row_it_refers_to(staff_work, tmp_path):
    path, newer = write_seed(tmp_path, [UNHCR_EUROPE, *seed_items(), UNHCR])

    out = load_seed(fixture=path)

    assert f"Added 2 rows new in seed version {newer};" in out
    assert Organisation.objects.get(slug="unhcr-europe").parent.slug == "unhcr"


def test_load_seed_newer_version_skips_row_clashing_with_staff_row(staff_work, tmp_path):
    Organisation.objects.create(slug="un-refugee-agency", name="UN Refugee Agency", kind="other")
    path, newer = write_seed(tmp_path, [*seed_items(), UNHCR])

    out = load_seed(fixture=path)

    assert "Skipped cooperation.organisation “unhcr”: it clashes with an existing row" in out
    assert f"Added 0 rows new in seed version {newer};" in out
    assert not Organisation.objects.filter(slug="unhcr").exists()
    assert Organisation.objects.get(name="UN Refugee Agency").slug == "un-refugee-agency"
    assert SeedLoad.objects.latest().natural_keys == {}


def test_load_seed_adopts_rows_loaded_before_it_kept_count(version, tmp_path):
    call_command("loaddata", "seed", verbosity=0)
    Organisation.objects.filter(slug="easo").update(description=EDITED)

    out = load_seed()
    Area.objects.get(slug=DELETED).delete()
    path, newer = write_seed(tmp_path, [*seed_items(), UNHCR])
    load_seed(fixture=path)

    assert out == (
        f"Added 0 rows new in seed version {version}; left {SEED_ROWS} existing rows as they are.\n"
    )
    assert easo().description == EDITED
    assert not Area.objects.filter(slug=DELETED).exists()
    assert Organisation.objects.filter(slug="unhcr").exists()


def test_load_seed_reset_restores_staff_work(staff_work, version):
    pk = easo().pk

    out = load_seed("--reset")

    assert out == (
        f"Reset {SEED_ROWS} rows to seed version {version}: "
        "staff edits to them are undone and deleted ones are back.\n"
    )
    assert easo().pk == pk
    assert easo().description.startswith("Helps national authorities")
    area = Area.objects.get(slug=DELETED)
    assert area.citations.count() == 1
    assert area in Agreement.objects.get().areas.all()
    assert sum(counts().values()) == SEED_ROWS + 2
    assert SeedLoad.objects.latest().reset


def test_load_seed_refuses_missing_file(tmp_path):
    with pytest.raises(CommandError, match="missing: run manage.py build_seed"):
        load_seed(fixture=tmp_path / "seed.json")


def test_load_seed_fails_as_a_whole(tmp_path):
    broken = {"model": "cooperation.organisation", "fields": {"slug": "x", "colour": "red"}}
    path, _ = write_seed(tmp_path, [*seed_items(), broken])

    with pytest.raises(DeserializationError):
        load_seed(fixture=path)

    assert set(counts().values()) == {0}


def test_seed_load_admin_is_view_only(admin_client, version):
    load_seed()
    load = SeedLoad.objects.get()

    changelist = admin_client.get(reverse("admin:cooperation_seedload_changelist"))
    change = admin_client.get(reverse("admin:cooperation_seedload_change", args=[load.pk]))
    add = admin_client.get(reverse("admin:cooperation_seedload_add"))
    delete = admin_client.get(reverse("admin:cooperation_seedload_delete", args=[load.pk]))

    assertContains(changelist, version)
    assert list(changelist.context["cl"].result_list) == [load]
    assertContains(change, "nina-gregori")
    assert not change.context["has_change_permission"]
    assert (add.status_code, delete.status_code) == (403, 403)


def test_load_seed_reset_adds_row_before_the_row_it_refers_to(tmp_path):
    path, newer = write_seed(tmp_path, [UNHCR_EUROPE, *seed_items(), UNHCR])

    out = load_seed("--reset", fixture=path)

    assert out.startswith(f"Reset {SEED_ROWS + 2} rows to seed version {newer}")
    assert Organisation.objects.get(slug="unhcr-europe").parent.slug == "unhcr"


def test_load_seed_starts_each_rows_history(version):
    load_seed()

    easo = Organisation.objects.get(slug="easo")
    (first,) = Version.objects.get_for_object(easo)
    assert first.revision.comment == f"Loaded from seed data version {version}."
    assert Version.objects.get_for_object(Agreement.objects.get()).exists()
