import datetime
import io
import secrets
import string

import pytest
import reversion
from django.core.management import call_command
from django.db import connection
from django.http import QueryDict
from lxml import etree
from reversion.models import Version

from cooperation import exports, iati, iati_sql, kept, parallel
from cooperation.models import (
    Activity,
    Area,
    Country,
    KeptCells,
    NamesVersion,
    Publication,
    Role,
)

from .factories import AreaFactory, CitationFactory, ParticipationFactory, SourceFactory
from .test_exports import body, canonical_elements, varied  # noqa: F401 A fixture.

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="Cells are kept on PostgreSQL only."
)

#: Put in an activity's kept cells (tampered()): seen in an export only if it read them.
KEPT_AREA = "Kept area, not worked out"
KEPT_TAG = '<tag code="kept" vocabulary="99"><narrative>Kept</narrative></tag>'


def tampered(activity):
    """Change the kept cells of `activity` behind the back of everything that marks them."""
    row = KeptCells.objects.get(activity=activity)
    KeptCells.objects.filter(activity=activity).update(
        cells={**row.cells, "areas": KEPT_AREA}, iati_tail=KEPT_TAG + row.iati_tail
    )


def read_kept(client):
    return KEPT_AREA.encode() in body(client.get("/activities.csv"))


@postgresql_only
@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/activities.csv",
        "/activities.hxl.csv",
        "/activities.csv?sort=title",
        "/activities.csv?organisation_kind=academic",
        "/activities.csv?q=quote",
    ],
)
def test_an_export_of_kept_cells_is_the_export_worked_out(client, varied, path):  # noqa: F811
    worked_out = body(client.get(path))

    assert kept.keep() == (12, 12)
    assert KeptCells.objects.count() == 12
    assert body(client.get(path)) == worked_out


@postgresql_only
@pytest.mark.django_db
def test_iati_xml_of_kept_texts_is_what_python_builds(varied):  # noqa: F811
    kept.keep()
    table = exports.TABLES["activity-list"]
    # Kept with the site's address left open, read at another.
    context = exports.Context("https://elsewhere.example/x&y", None, "")
    today = datetime.date(2026, 1, 15)
    written = iati_sql.Written(table.filterset(QueryDict()).qs, context, today)
    built = iati.Built(table, table.filterset(QueryDict()).qs, context, today)

    assert canonical_elements(written) == canonical_elements(built)
    assert written.left_out == built.left_out == 6


@postgresql_only
@pytest.mark.django_db
@pytest.mark.parametrize("chunk, group", [(100, 50), (5, 2)])
def test_iati_xml_of_kept_and_stale_texts_keeps_the_list_order(varied, monkeypatch, chunk, group):  # noqa: F811
    monkeypatch.setattr(iati_sql, "CHUNK", chunk)
    monkeypatch.setattr(iati_sql, "GROUP", group)
    kept.keep()
    tampered(varied[0])
    varied[1].title = "Retitled after its texts were kept"
    varied[1].save()
    kept.links_changed([varied[2].pk], "default")
    table = exports.TABLES["activity-list"]
    context = exports.Context("http://testserver", None, "")
    today = datetime.date(2026, 1, 15)
    written = iati_sql.Written(table.filterset(QueryDict()).qs, context, today)
    built = iati.Built(table, table.filterset(QueryDict()).qs, context, today)

    elements = canonical_elements(written)
    assert KEPT_TAG.encode() in b"".join(elements)  # Read as kept...
    expected = canonical_elements(built)
    untampered = [element for element in elements if KEPT_TAG.encode() not in element]
    # ...and the stale ones worked out, each in its place.
    assert untampered == [element for element in expected if element in untampered]
    assert len(elements) == len(expected)
    assert b"Retitled after its texts were kept" in b"".join(elements)
    assert written.left_out == built.left_out == 6


@postgresql_only
@pytest.mark.django_db
def test_an_activity_deleted_before_its_chunk_is_written_has_no_element(varied):  # noqa: F811
    kept.keep()
    context = exports.Context("http://testserver", None, "")
    today = datetime.date(2026, 1, 15)
    statements = tuple(
        iati_sql.copy_statement(statement(context, today))
        for statement in (iati_sql.kept_statement, iati_sql.worked_statement)
    )
    dated = [a.pk for a in Activity.objects.filter(start_date_precision="day").order_by("pk")]
    varied_ids = [a.pk for a in varied if a.pk in dated]
    stale, gone = varied_ids[0], max(dated) + 1000
    kept.links_changed([stale], "default")
    ids = [varied_ids[1], gone, stale, varied_ids[2]]

    text, left_out = iati_sql.copied_elements("default", statements, ids)

    identifiers = [e.findtext("iati-identifier") for e in etree.fromstring(b"<a>" + text + b"</a>")]
    assert identifiers == [iati.identifier(pk) for pk in (varied_ids[1], stale, varied_ids[2])]
    assert left_out == 0


def moved_out(using="default"):
    """How many pieces of texts PostgreSQL holds out of the kept rows (in their TOAST)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltoastrelid::regclass::text FROM pg_class WHERE relname = %s", [kept.TABLE]
        )
        (toast,) = cursor.fetchone()
        cursor.execute(f"SELECT count(*) FROM {toast}")
        return cursor.fetchone()[0]


@postgresql_only
@pytest.mark.django_db
def test_a_kept_row_holds_its_json_in_the_row_itself(varied):  # noqa: F811
    kept.keep()
    before = moved_out()
    # 2,600 characters that do not compress, past PostgreSQL's default of 2,032 a row.
    json = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(2_600))
    KeptCells.objects.filter(activity=varied[0]).update(json=json)

    assert KeptCells.objects.get(activity=varied[0]).json == json
    assert moved_out() == before


@postgresql_only
@pytest.mark.django_db
def test_exports_read_kept_texts_while_they_are_still_true(client, varied):  # noqa: F811
    kept.keep()
    tampered(varied[0])

    assert read_kept(client)
    assert KEPT_TAG.encode() in body(client.get("/activities.iati.xml"))
    varied[0].title = "An editor's change of the activity's own text"
    varied[0].save()
    # CSV reads the activity's own cells from its row; IATI XML keeps them in the element.
    assert read_kept(client)
    assert KEPT_TAG.encode() not in body(client.get("/activities.iati.xml"))


def add_participation(activity):
    ParticipationFactory(activity=activity, role=Role.EXTENDING)


def remove_participation(activity):
    activity.participations.first().delete()


def change_role(activity):
    participation = activity.participations.first()
    participation.role = Role.EXTENDING
    participation.save()


def cite(activity):
    CitationFactory(activity=activity)


def change_quote(activity):
    CitationFactory(activity=activity)
    kept.keep()
    tampered(activity)
    citation = activity.citations.first()
    citation.note = "Another note"
    citation.save()


def move_citation_away(activity):
    citation = CitationFactory(activity=activity)
    kept.keep()
    tampered(activity)
    citation.activity = Activity.objects.exclude(pk=activity.pk).first()
    citation.save()


def add_area(activity):
    activity.areas.add(AreaFactory())


def remove_from_area(activity):
    area = AreaFactory()
    activity.areas.add(area)
    kept.keep()
    tampered(activity)
    area.activities.remove(activity)


def clear_areas_of_area(activity):
    area = AreaFactory()
    activity.areas.add(area)
    kept.keep()
    tampered(activity)
    area.activities.clear()


def clear_countries(activity):
    activity.countries.clear()


def set_regions(activity):
    activity.regions.set([])


def rename_organisation(activity):
    organisation = activity.participations.first().organisation
    organisation.name = "Renamed"
    organisation.save()


def rename_area(activity):
    area = Area.objects.first()
    area.name = "Renamed"
    area.save()


def rename_country(activity):
    Country.objects.get(code="FR").save()


def retitle_source(activity):
    source = SourceFactory()
    source.title = "Retitled"
    source.save()


def delete_area(activity):
    AreaFactory().delete()


@postgresql_only
@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        add_participation,
        remove_participation,
        change_role,
        cite,
        change_quote,
        move_citation_away,
        add_area,
        remove_from_area,
        clear_areas_of_area,
        clear_countries,
        set_regions,
        rename_organisation,
        rename_area,
        rename_country,
        retitle_source,
        delete_area,
    ],
)
def test_a_change_to_links_or_names_makes_kept_texts_stale(client, varied, change):  # noqa: F811
    activity = varied[0]
    kept.keep()
    tampered(activity)
    assert read_kept(client)

    change(activity)

    assert not read_kept(client)
    assert KEPT_TAG.encode() not in body(client.get("/activities.iati.xml"))


@postgresql_only
@pytest.mark.django_db
def test_texts_kept_by_another_statement_are_not_read(client, varied, monkeypatch):  # noqa: F811
    kept.keep()
    tampered(varied[0])
    monkeypatch.setattr(kept, "layout", lambda: "a later release")

    assert not read_kept(client)


@pytest.mark.django_db
def test_a_change_of_links_is_dated_and_a_change_of_the_activity_alone_is_not(varied):  # noqa: F811
    activity = varied[0]
    before = Activity.objects.get(pk=activity.pk).links_changed_at
    activity.title = "Retitled"
    activity.save()
    assert Activity.objects.get(pk=activity.pk).links_changed_at == before

    activity.areas.add(AreaFactory())

    assert Activity.objects.get(pk=activity.pk).links_changed_at > before


@pytest.mark.django_db
def test_a_save_of_an_activity_read_before_its_links_changed_keeps_their_time(varied):  # noqa: F811
    read_before = Activity.objects.get(pk=varied[0].pk)
    varied[0].areas.add(AreaFactory())
    changed = Activity.objects.get(pk=varied[0].pk).links_changed_at

    read_before.title = "Saved later"
    read_before.save()

    saved = Activity.objects.get(pk=varied[0].pk)
    assert (saved.title, saved.links_changed_at) == ("Saved later", changed)


@pytest.mark.django_db
def test_history_does_not_keep_when_the_links_changed(varied):  # noqa: F811
    # A revert restores an activity's links: it gives them a new time, not the old one.
    activity = varied[0]
    with reversion.create_revision():
        activity.save()
    data = Version.objects.get_for_object(activity).first().serialized_data

    assert "links_changed_at" not in data
    assert '"changed_at"' in data


@pytest.mark.django_db
def test_the_command_keeps_the_cells_of_published_activities(varied):  # noqa: F811
    out = io.StringIO()
    call_command("keep_export_cells", stdout=out)

    if connection.vendor == "postgresql":
        assert "Kept the cells of 12 of 12 published activities" in out.getvalue()
        assert KeptCells.objects.count() == 12
        varied[0].publication = Publication.DRAFT
        varied[0].save()
        varied[1].areas.clear()
        call_command("keep_export_cells", stdout=out)
        assert "Kept the cells of 1 of 11 published activities" in out.getvalue()
        assert not KeptCells.objects.filter(activity=varied[0]).exists()
        call_command("keep_export_cells", "--all", stdout=out)
        assert "Kept the cells of 11 of 11 published activities" in out.getvalue()
    else:
        assert out.getvalue() == "Nothing kept on SQLite: its exports work out every cell.\n"
        assert not KeptCells.objects.exists()
    call_command("keep_export_cells", "--forget", stdout=out)
    assert not KeptCells.objects.exists()
    assert out.getvalue().endswith("Forgot every kept cell.\n")


@postgresql_only
@pytest.mark.django_db
def test_a_name_changed_adds_one_to_the_names_version(varied):  # noqa: F811
    before = NamesVersion.objects.get().number
    AreaFactory()
    assert NamesVersion.objects.get().number == before + 1


# Other connections read committed rows only (test_parallel.py).
committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@postgresql_only
@committed
def test_chunks_read_in_parallel_read_kept_texts(varied, monkeypatch):  # noqa: F811
    table = exports.TABLES["activity-list"]
    context = exports.Context("http://testserver", None, "")
    today = datetime.date(2026, 1, 15)
    monkeypatch.setattr(exports, "COPY_CHUNK", 5)
    monkeypatch.setattr(iati_sql, "CHUNK", 5)
    assert parallel.usable("default")

    def csv():
        return b"".join(
            p.encode() if isinstance(p, str) else p
            for p in exports.csv_lines(table, table.filterset(None).qs, context)
        )

    def xml():
        return b"".join(iati_sql.Written(table.filterset(None).qs, context, today))

    worked_out = csv(), xml()
    kept.keep()
    assert (csv(), xml()) == worked_out
    tampered(varied[0])
    assert KEPT_AREA.encode() in csv()
    assert KEPT_TAG.encode() in xml()


@postgresql_only
@pytest.mark.django_db
def test_kept_texts_are_compressed_with_lz4_where_postgresql_has_it():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        if not cursor.fetchone()[0]:
            pytest.skip("This PostgreSQL was built without lz4.")
        cursor.execute(
            "SELECT attname, attcompression FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attname IN ('cells', 'iati_head', 'iati_tail')",
            [kept.TABLE],
        )
        assert dict(cursor.fetchall()) == {"cells": "l", "iati_head": "l", "iati_tail": "l"}
