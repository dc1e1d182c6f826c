"""Imports and exports of the admin's lists (cooperation/imports.py)."""

import csv
import datetime
import io

import openpyxl
import pytest
import reversion
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from pytest_django.asserts import assertContains, assertNotContains
from reversion.models import Version

from cooperation import imports, spreadsheets
from cooperation.dates import Precision
from cooperation.models import (
    Activity,
    Agreement,
    Area,
    Country,
    Organisation,
    Participation,
    Publication,
    Role,
    SeedLoad,
)
from cooperation.roles import EDITOR
from cooperation.spreadsheets import CSV, FORMATS, XLSX, escape_formula, unescape_formula

from .factories import (
    ActivityFactory,
    AgreementFactory,
    AreaFactory,
    OrganisationFactory,
    ParticipationFactory,
    RegionFactory,
)
from .test_admin import ROWS, admin_url, rendered_form_data
from .test_seed import load_seed

pytestmark = pytest.mark.django_db

IMPORTED = [Organisation, Area, Agreement, Activity]
HEADER = "title,slug,status,start_date,end_date,participations,areas,countries,publication\n"


@pytest.fixture
def editor(client, django_user_model):
    user = django_user_model.objects.create_user(username="ana", is_staff=True)
    user.groups.add(Group.objects.get(name=EDITOR))
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def partners():
    """Two organisations and an area for activities to name."""
    return (
        OrganisationFactory(slug="iom", name="International Organization for Migration"),
        OrganisationFactory(slug="easo", name="European Asylum Support Office"),
        AreaFactory(slug="training"),
    )


def upload(client, model, content, name="rows.csv", file_format=CSV):
    """Send a file to the import page of `model`'s list: the preview."""
    return client.post(
        admin_url(model, "import"),
        {
            "format": FORMATS.index(file_format),
            "resource": 0,
            "import_file": SimpleUploadedFile(name, content),
        },
    )


def confirm(client, model, preview):
    form = preview.context["confirm_form"]
    data = {name: form[name].value() for name in form.fields}
    return client.post(admin_url(model, "process_import"), data)


def import_file(client, model, content, **kwargs):
    preview = upload(client, model, content, **kwargs)
    assert "confirm_form" in preview.context, errors_of(preview)
    return confirm(client, model, preview)


def errors_of(response):
    """What a preview refused, as text, to explain a failed assertion."""
    context = response.context
    if context is None:
        return response.status_code
    result = context.get("result")
    found = [str(context["form"].errors)] if context.get("form") else []
    if result:
        found += [str(error.error) for error in result.base_errors]
        found += [str(row.error_dict) for row in result.invalid_rows]
        found += [str(error.error) for _, errors in result.row_errors() for error in errors]
    return found


def export(client, model, file_format=CSV, query=""):
    response = client.post(
        admin_url(model, "export") + query, {"format": FORMATS.index(file_format), "resource": 0}
    )
    assert response.status_code == 200
    return response.content


def cells(content, file_format):
    """The cells of an exported file (a workbook's bytes hold the time it was written)."""
    return list(file_format().create_dataset(content))


def csv_text(content):
    return content.decode("utf-8-sig")


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+41 22", "'+41 22"),
        ("-5", "'-5"),
        ("@home", "'@home"),
        ("\tindented", "'\tindented"),
        ("\rreturn", "'\rreturn"),
        ("'quoted", "'quoted"),
        ("plain = text", "plain = text"),
        ("", ""),
    ],
)
def test_formula_escape_adds_one_quote_and_unescape_takes_it_away(text, escaped):
    assert escape_formula(text) == escaped
    assert unescape_formula(escaped) == text


def test_unescape_keeps_a_quote_that_escaping_did_not_add():
    assert unescape_formula("'tis") == "'tis"
    assert unescape_formula("''=x") == "''=x"
    assert unescape_formula(None) is None


def varied_records():
    """Records with dates of every precision, texts that look like formulas, links of all kinds."""
    iom, easo, area = (
        OrganisationFactory(slug="iom", acronym="-IOM", description="=HYPERLINK(x)"),
        OrganisationFactory(slug="easo", parent=None, country="MT"),
        AreaFactory(slug="training", description="Line one\r\nline two, with “quotes”"),
    )
    agreement = AgreementFactory(slug="arrangement", parties=[iom, easo], signed_on=None)
    Agreement.objects.filter(pk=agreement.pk).update(
        signed_on=datetime.date(2012, 1, 1), signed_on_precision=Precision.YEAR
    )
    activity = ActivityFactory(
        slug="training",
        description="@mentions and +plus",
        start_date=datetime.date(2012, 3, 1),
        start_date_precision=Precision.MONTH,
        end_date=datetime.date(2026, 1, 22),
        agreement=agreement,
        areas=[area],
        countries=["FR", "DE"],
        regions=[RegionFactory()],
    )
    ParticipationFactory(activity=activity, organisation=iom, role=Role.IMPLEMENTING)
    ParticipationFactory(activity=activity, organisation=easo, role=Role.FUNDING)
    ActivityFactory(slug="undated", publication=Publication.DRAFT)


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("model", IMPORTED)
def test_export_reimports_unchanged(admin_client, model, file_format):
    varied_records()
    load_seed()
    exported = export(admin_client, model, file_format)
    versions = Version.objects.count()

    preview = upload(admin_client, model, exported, file_format=file_format)

    result = preview.context["result"]
    assert not result.has_errors() and not result.has_validation_errors(), errors_of(preview)
    assert result.totals["skip"] == model.objects.count() > 0
    assert result.totals["new"] == result.totals["update"] == 0
    assertContains(preview, f"0 new, 0 changed, {model.objects.count()} unchanged")
    response = confirm(admin_client, model, preview)
    assert response.status_code == 302
    assert cells(export(admin_client, model, file_format), file_format) == cells(
        exported, file_format
    )
    assert Version.objects.count() == versions


def test_csv_export_escapes_formulas_and_writes_dates_as_shown(admin_client):
    varied_records()

    text = csv_text(export(admin_client, Activity))

    assert "'@mentions and +plus" in text
    assert ",March 2012,22 January 2026," in text
    assert "easo:funding;iom:implementing" in text
    assert ",DE;FR," in text


def test_xlsx_export_writes_formulas_as_text(admin_client):
    varied_records()

    book = openpyxl.load_workbook(io.BytesIO(export(admin_client, Organisation, XLSX)))

    cells = [cell for row in book.active.iter_rows() for cell in row]
    formula = next(cell for cell in cells if cell.value == "=HYPERLINK(x)")
    assert formula.data_type == "s"
    assert "-IOM" in [cell.value for cell in cells]


def test_export_honours_the_list_filters(admin_client):
    ActivityFactory(slug="published-one")
    ActivityFactory(slug="draft-one", publication=Publication.DRAFT)

    text = csv_text(export(admin_client, Activity, query="?publication__exact=draft"))

    assert "draft-one" in text
    assert "published-one" not in text


@pytest.mark.parametrize("model", [*ROWS, Country, SeedLoad])
def test_every_list_exports_related_records_by_natural_key(admin_client, model):
    row = ROWS[model]() if model in ROWS else None
    if model is SeedLoad:
        load_seed()

    response = admin_client.get(admin_url(model, "changelist"))

    assertContains(response, admin_url(model, "export"))
    rows = list(csv.DictReader(io.StringIO(csv_text(export(admin_client, model)))))
    assert len(rows) == model.objects.count()
    if row is None:
        return
    (own,) = [each for each in rows if str(row.pk) == each.get("id", each.get("slug"))] or [
        each for each in rows if each.get("slug") == row.slug
    ]
    for field in model._meta.get_fields():
        if field.many_to_one and field.concrete:
            related = getattr(row, field.name)
            assert own[field.name] == (related.natural_key()[0] if related else "")


def test_import_adds_activity_as_draft_with_participations_and_precise_dates(editor, partners):
    content = (
        HEADER + "Joint training,joint-training,implementation,2012,March 2013,"
        "iom:implementing; easo:funding,training,fr;DE,published\n"
    ).encode()

    response = import_file(editor, Activity, content, name="release.csv")

    assert response.status_code == 302
    activity = Activity.objects.get(slug="joint-training")
    assert activity.publication == Publication.DRAFT
    assert (activity.start_shown, activity.end_shown) == ("2012", "March 2013")
    assert activity.end_date == datetime.date(2013, 3, 31)
    assert sorted(activity.participations.values_list("organisation__slug", "role")) == [
        ("easo", "funding"),
        ("iom", "implementing"),
    ]
    assert sorted(activity.countries.values_list("code", flat=True)) == ["DE", "FR"]
    assert activity.publication_problems() == ["it needs at least one citation"]
    version = Version.objects.get_for_object(activity).get()
    assert version.revision.user == editor.user
    assert version.revision.comment == "Imported from “release.csv”."


def test_import_changes_a_published_record_but_not_its_publication(editor, partners):
    iom, easo, area = partners
    activity = ActivityFactory(slug="joint-training", title="Old title", areas=[area])
    ParticipationFactory(activity=activity, organisation=iom, role=Role.FUNDING)
    content = (HEADER + "New title,joint-training,closed,,,easo:implementing,,,draft\n").encode()

    preview = upload(editor, Activity, content)
    assertContains(preview, "0 new, 1 changed, 0 unchanged")
    confirm(editor, Activity, preview)

    activity.refresh_from_db()
    assert (activity.title, activity.status, activity.is_published) == ("New title", "closed", True)
    assert list(activity.participations.values_list("organisation__slug", "role")) == [
        ("easo", "implementing")
    ]
    assert list(activity.areas.all()) == []
    assert activity in Activity.objects.changed_since_published()


def test_import_warns_of_a_published_record_it_leaves_unpublishable(editor, partners):
    iom, easo, area = partners
    activity = ActivityFactory(slug="joint-training", areas=[area])
    ParticipationFactory(activity=activity, organisation=iom)
    ParticipationFactory(activity=activity, organisation=easo)

    response = import_file(editor, Activity, b"slug,participations\njoint-training,iom:funding\n")

    messages = [str(message) for message in get_messages(response.wsgi_request)]
    assert (
        f"The published activity “{activity}” no longer meets the publishing rules: it needs "
        "at least two participating organisations; it needs at least one citation."
    ) in messages
    activity.refresh_from_db()
    assert activity.is_published


def test_import_of_organisations_finds_parents_by_slug(editor):
    OrganisationFactory(slug="eu", name="European Union")
    content = (
        b"name,acronym,slug,kind,parent,country,website\n"
        b"European Union Agency for Asylum,EUAA,euaa,eu-agency,eu,mt,https://euaa.europa.eu\n"
    )

    import_file(editor, Organisation, content)

    euaa = Organisation.objects.get(slug="euaa")
    assert (euaa.parent.slug, euaa.country.code, euaa.acronym) == ("eu", "MT", "EUAA")


def test_import_of_csv_strips_one_escaping_quote(editor):
    content = "name,slug,kind,description\nTraining,training,thematic,'=not a formula\n"

    import_file(editor, Area, content.encode())

    assert Area.objects.get(slug="training").description == "=not a formula"


def test_import_reads_an_xlsx_workbook(editor, partners):
    book = openpyxl.Workbook()
    book.active.append(["title", "slug", "status", "start_date", "participations", "areas"])
    book.active.append(
        ["From a workbook", "workbook", "pipeline", "22 January 2026", "iom:funding", ""]
    )
    content = io.BytesIO()
    book.save(content)

    import_file(editor, Activity, content.getvalue(), name="rows.xlsx", file_format=XLSX)

    activity = Activity.objects.get(slug="workbook")
    assert activity.start_shown == "22 January 2026"


ACTIVITY_ROW = "Training,training,implementation,2012,2013,iom:implementing,training,FR,\n"


#: Files that an import refuses: the bytes, the format, and what the page says.
BAD_FILES = [
    pytest.param(
        HEADER + "Training,training,implementation\n",
        CSV,
        "Line 3 has 3 cells; the header line has 9.",
        id="malformed CSV",
    ),
    pytest.param(HEADER + "A,b,c,d,e,f,g,h,i,j\n", CSV, "Line 3 has 10 cells", id="extra cells"),
    pytest.param(
        HEADER + '"Training" day,training,implementation,,,,,,\n',
        CSV,
        "Line 3 is not well-formed CSV",
        id="stray quote",
    ),
    pytest.param(
        HEADER + '"Training,training,implementation,,,,,,\n',
        CSV,
        "is not well-formed CSV",
        id="unclosed quote",
    ),
    pytest.param(
        (HEADER + "Formation à Genève,training,implementation,,,,,,\n").encode("latin-1"),
        CSV,
        "line 3 holds the byte 0xE0",
        id="Latin-1",
    ),
    pytest.param(
        (HEADER + ACTIVITY_ROW).encode("utf-16"), CSV, "This file is UTF-16 text", id="UTF-16"
    ),
    pytest.param(
        (HEADER + ACTIVITY_ROW).encode("utf-16-le"), CSV, "or it is UTF-16", id="UTF-16, no BOM"
    ),
    pytest.param(HEADER + "Train\x00ing,training,,,,,,,\n", CSV, "NUL characters", id="NUL bytes"),
    pytest.param(
        HEADER + ACTIVITY_ROW, XLSX, "cannot be read as an XLSX workbook", id="not a workbook"
    ),
    pytest.param("\n \n", CSV, "This file is empty.", id="empty"),
    pytest.param(
        HEADER + ACTIVITY_ROW.replace("iom:", "nobody:"),
        CSV,
        "No organisation has the slug “nobody”.",
        id="unknown organisation",
    ),
    pytest.param(
        HEADER + ACTIVITY_ROW.replace("iom:implementing", "iom:partner"),
        CSV,
        "“partner” is not one of funding, accountable, extending, implementing.",
        id="unknown role",
    ),
    pytest.param(
        HEADER + ACTIVITY_ROW.replace("iom:implementing", "iom"),
        CSV,
        "“iom” names no role",
        id="no role",
    ),
    pytest.param(
        HEADER + ACTIVITY_ROW.replace(",2012,", ",31 February 2012,"),
        CSV,
        "February 2012 has no day 31.",
        id="impossible date",
    ),
    pytest.param(
        HEADER + ACTIVITY_ROW.replace(",2012,2013,", ",2013,2012,"),
        CSV,
        "The end date is before the start date.",
        id="end before start",
    ),
    pytest.param(
        HEADER + ACTIVITY_ROW.replace(",training,FR", ",training;nowhere,FR"),
        CSV,
        "No areas have the slugs “nowhere”.",
        id="unknown area",
    ),
    pytest.param(
        HEADER + ACTIVITY_ROW.replace(",FR,", ",XX,"),
        CSV,
        "No countries have the codes “XX”.",
        id="unknown country",
    ),
    pytest.param(
        HEADER + ACTIVITY_ROW.replace("implementation", "ongoing"),
        CSV,
        "“ongoing” is not one of pipeline",
        id="unknown status",
    ),
    pytest.param(
        "title,slug,colour\nTraining,training,red\n",
        CSV,
        "Unknown columns: colour.",
        id="unknown column",
    ),
    pytest.param("title\nTraining\n", CSV, "A slug column is needed", id="no slug column"),
    pytest.param(
        "title,slug,description\nTraining,training,Write to press@example.org\n",
        CSV,
        "“press@example.org”",
        id="contact details",
    ),
]


@pytest.mark.parametrize(("content", "file_format", "message"), BAD_FILES)
def test_bad_file_is_refused_with_a_message_and_writes_nothing(
    editor, partners, content, file_format, message
):
    content = content.encode() if isinstance(content, str) else content
    # A valid row first: it is not written either.
    if file_format is CSV and content.startswith(HEADER.encode()):
        content = content.replace(b"\n", b"\nFirst,first,pipeline,,,,,,\n", 1)

    response = upload(editor, Activity, content, file_format=file_format)

    assert response.status_code == 200
    assertContains(response, message)
    assert "confirm_form" not in response.context
    assert not Activity.objects.exists()
    assert not Participation.objects.exists()


def test_web_address_other_than_http_is_refused(editor):
    content = b"name,slug,kind,website\nOne,one,other,javascript:alert(1)\n"

    response = upload(editor, Organisation, content)

    assertContains(response, "Enter an address that starts with http:// or https://.")
    assert not Organisation.objects.exists()


def test_too_large_a_file_is_refused(editor, monkeypatch):
    monkeypatch.setattr(imports, "IMPORT_MAX_BYTES", 1024 * 1024)

    response = upload(editor, Area, b"name,slug,kind\n" + b"x" * 1024 * 1024)

    assertContains(response, "This file has 1.0 MB; an import takes at most 1 MB.")
    assert "confirm_form" not in response.context


def test_too_many_rows_are_refused(editor, monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_ROWS", 2)
    content = "name,slug,kind\n" + "".join(f"Area {n},area-{n},thematic\n" for n in range(3))

    response = upload(editor, Area, content.encode())

    assertContains(response, "This file has 3 rows; an import takes at most 2.")
    assert not Area.objects.exists()


def test_confirmation_writes_nothing_when_a_row_fails_by_then(editor, partners):
    iom, easo, area = partners
    content = (HEADER + "A,a,pipeline,,,,,,\nB,b,pipeline,,,iom:funding,,,\n").encode()
    preview = upload(editor, Activity, content)
    iom.delete()  # between the preview and the confirmation

    response = confirm(editor, Activity, preview)

    assert response.status_code == 200
    assertContains(response, "Nothing was imported")
    assertContains(response, "No organisation has the slug “iom”.")
    assert not Activity.objects.exists()
    assert not Version.objects.exists()


def test_confirmation_refuses_a_record_changed_since_the_preview(editor, admin_user):
    activity = ActivityFactory(slug="joint-training", title="Old title")
    preview = upload(editor, Activity, b"title,slug\nImported title,joint-training\n")
    with reversion.create_revision():
        reversion.set_user(admin_user)
        activity.title = "Their title"
        activity.save()

    response = confirm(editor, Activity, preview)

    assertContains(response, "admin changed “Their title” after the preview was made.")
    activity.refresh_from_db()
    assert activity.title == "Their title"


def test_confirmation_of_a_vanished_file_is_a_message_not_an_error(editor):
    preview = upload(editor, Area, b"name,slug,kind\nTraining,training,thematic\n")
    confirm(editor, Area, preview)

    response = confirm(editor, Area, preview)

    assert response.status_code == 302
    assert response.headers["Location"] == admin_url(Area, "import")
    assert Area.objects.count() == 1


def test_record_changed_by_an_import_gives_its_open_form_the_conflict(editor, partners):
    activity = ActivityFactory(slug="joint-training", title="Old title")
    with reversion.create_revision():
        activity.save()
    url = admin_url(Activity, "change", activity.pk)
    opened = rendered_form_data(editor.get(url))

    import_file(editor, Activity, b"title,slug\nImported title,joint-training\n")
    response = editor.post(url, {**opened, "title": "Typed title"})

    assert response.status_code == 200
    assertContains(response, "ana changed this activity after you opened it")
    assertContains(response, "Title: Old title → Imported title")
    activity.refresh_from_db()
    assert activity.title == "Imported title"


def test_unchanged_rows_store_no_version(editor):
    area = AreaFactory(slug="training", name="Training", description="")
    with reversion.create_revision():
        area.save()

    import_file(editor, Area, b"name,slug,kind,description\nTraining,training,thematic,\n")

    assert Version.objects.get_for_object(area).count() == 1


def test_preview_shows_new_changed_and_unchanged_rows(editor):
    AreaFactory(slug="same", name="Same", kind="thematic")
    AreaFactory(slug="other", name="Other", kind="thematic")
    content = "name,slug,kind\nSame,same,thematic\nOther,other,cross-cutting\nNew,new,thematic\n"

    response = upload(editor, Area, content.encode())

    assertContains(response, "1 new, 1 changed, 1 unchanged")
    assertNotContains(response, "Errors")
    assert not Area.objects.filter(slug="new").exists()
