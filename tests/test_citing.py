import pytest
import reversion
from django.contrib.auth.models import Group
from django.urls import reverse
from reversion.models import Version

from cooperation.models import Citation
from cooperation.roles import EDITOR, VIEWER

from .factories import ActivityFactory, AreaFactory, CitationFactory, SourceFactory
from .test_admin import admin_url, rendered_form_data

pytestmark = pytest.mark.django_db

TEXT = (
    "The parties agreed to train border guards.\nThey also exchange experts at the agency’s seat."
)


@pytest.fixture
def source():
    return SourceFactory(text=TEXT)


@pytest.fixture
def as_role(client, django_user_model):
    def log_in(role):
        user = django_user_model.objects.create_user(username=role.lower(), is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return client

    return log_in


def cite_url(source):
    return reverse("admin:cooperation_source_cite", args=[source.pk])


def rows(*citations, total=None):
    """POST data for the form to cite: one row per (record, quote) or (record, quote, note)."""
    data = {"form-TOTAL_FORMS": total or len(citations), "form-INITIAL_FORMS": 0}
    for index, (record, quote, *note) in enumerate(citations):
        kind = type(record)._meta.model_name if not isinstance(record, str) else None
        data[f"form-{index}-record"] = f"{kind}:{record.pk}" if kind else record
        data[f"form-{index}-quote"] = quote
        data[f"form-{index}-note"] = note[0] if note else ""
    return data


def test_cite_page_marks_cited_passages_with_links_to_their_records(admin_client, source):
    area = AreaFactory()
    CitationFactory(source=source, area=area, quote="train border guards")

    response = admin_client.get(cite_url(source))

    assert response.status_code == 200
    html = response.content.decode()
    link = admin_url(type(area), "change", area.pk)
    marked = f'<a class="cited" href="{link}" title="Area: {area.name}">train border guards</a>'
    assert marked in html
    assert "citing.js" in html


def test_marked_text_escapes_the_text_and_splits_overlapping_quotes():
    from cooperation.citing import marked_text

    area = AreaFactory.build(pk=1, name="A")
    activity = ActivityFactory.build(pk=2, title="B")
    citations = [
        Citation(area=area, quote="<b>two"),
        Citation(activity=activity, quote="two three"),
    ]

    html = marked_text("one <b>two three", citations)

    assert html.startswith("one <a class=")
    assert "&lt;b&gt;</a>" in html
    assert 'title="Area: A; Activity: B">two</a>' in html
    assert html.endswith(" three</a>")


def test_cite_saves_several_citations_in_one_post_as_one_version(as_role, source):
    client = as_role(EDITOR)
    area, activity = AreaFactory(), ActivityFactory()

    response = client.post(
        cite_url(source),
        rows(
            (area, "train border guards", "What they train"),
            (activity, "They also exchange experts\r\nat"[:26]),
            total=3,
        ),
    )

    assert response.status_code == 302
    assert sorted(Citation.objects.values_list("quote", "note")) == [
        ("They also exchange experts", ""),
        ("train border guards", "What they train"),
    ]
    versions = Version.objects.get_for_object(activity)
    assert versions.count() == 1
    revision = versions.get().revision
    assert revision.user.username == "editor"
    assert Version.objects.get_for_object(area).get().revision == revision
    assert client.session["cooperation:last-source"] == source.pk


def test_cite_accepts_a_quote_across_lines(admin_client, source):
    area = AreaFactory()

    response = admin_client.post(cite_url(source), rows((area, "border guards.\r\nThey")))

    assert response.status_code == 302
    assert Citation.objects.get().quote == "border guards.\nThey"


def errors_of(response):
    formset = response.context["formset"]
    return [form.errors for form in formset.forms], formset.non_form_errors()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"quote": "the agency's seat"}, "quote", "does not occur"),
        ({"record": "area:999999"}, "record", "does not exist"),
        ({"record": "source:1"}, "record", "Choose the record from the list"),
        ({"record": "area:1²"}, "record", "Choose the record from the list"),
        ({"record": ""}, "record", "required"),
    ],
)
def test_cite_refuses_bad_input_and_writes_nothing(admin_client, source, data, field, message):
    area = AreaFactory()
    post = rows((area, "train border guards"), (area, "exchange experts"))
    post.update({f"form-1-{name}": value for name, value in data.items()})

    response = admin_client.post(cite_url(source), post)

    assert response.status_code == 400
    forms, _ = errors_of(response)
    assert message in str(forms[1][field])
    assert not forms[0]
    assert not Citation.objects.exists()
    assert not Version.objects.exists()


def test_cite_offers_the_nearest_passage_of_a_quote_not_found(admin_client, source):
    area = AreaFactory()

    response = admin_client.post(cite_url(source), rows((area, "the agency's seat")))

    html = response.content.decode()
    assert 'class="button use-passage" data-for="id_form-0-quote"' in html
    assert 'data-passage="the agency’s seat"' in html


def test_cite_refuses_the_same_passage_twice_for_a_record(admin_client, source):
    area = AreaFactory()
    CitationFactory(source=source, area=area, quote="exchange experts")

    repeated = admin_client.post(
        cite_url(source), rows((area, "train border guards"), (area, "train border guards"))
    )
    existing = admin_client.post(cite_url(source), rows((area, "exchange experts")))

    assert repeated.status_code == existing.status_code == 400
    assert "already cites this passage" in str(errors_of(repeated)[0][1]["quote"])
    assert "already cites this quote" in str(errors_of(existing)[0][0]["record"])
    assert Citation.objects.count() == 1


def test_cite_without_rows_or_management_form_writes_nothing(admin_client, source):
    empty = admin_client.post(cite_url(source), rows(total=2))
    broken = admin_client.post(cite_url(source), {"form-0-quote": "train"})

    assert empty.status_code == broken.status_code == 400
    assert "Select a passage" in str(errors_of(empty)[1])
    assert "ManagementForm data is missing" in str(errors_of(broken)[1])
    assert not Citation.objects.exists()


def test_viewer_reads_but_cannot_cite(as_role, source):
    client = as_role(VIEWER)
    area = AreaFactory()

    page = client.get(cite_url(source))
    response = client.post(cite_url(source), rows((area, "train border guards")))

    assert page.status_code == 200
    assert page.context["formset"] is None
    assert response.status_code == 403
    assert not Citation.objects.exists()


def test_citing_from_the_source_page_stops_a_stale_form_of_the_record(admin_client, source):
    area = AreaFactory()
    with reversion.create_revision():
        area.save()
    url = admin_url(type(area), "change", area.pk)
    opened = rendered_form_data(admin_client.get(url))

    admin_client.post(cite_url(source), rows((area, "train border guards")))
    stale = admin_client.post(url, {**opened, "description": "Changed meanwhile"})

    assert stale.status_code == 200
    assert "changed this area after you opened it" in stale.content.decode()
    assert "Citation: added" in stale.content.decode()
    area.refresh_from_db()
    assert area.description != "Changed meanwhile"


def test_record_search_finds_records_of_every_kind(admin_client, source):
    area = AreaFactory(name="Border management")
    activity = ActivityFactory(title="Border guard training")
    AreaFactory(name="Asylum")

    response = admin_client.get(
        reverse("admin:cooperation_source_records", args=[source.pk]), {"term": "border"}
    )

    assert response.status_code == 200
    ids = [result["id"] for result in response.json()["results"]]
    assert f"area:{area.pk}" in ids
    assert f"activity:{activity.pk}" in ids
    assert len(ids) == 2


def test_cite_and_record_search_refuse_a_nul_byte(admin_client, source):
    area = AreaFactory()
    records = reverse("admin:cooperation_source_records", args=[source.pk])

    cite = admin_client.post(cite_url(source), rows((area, "train\x00 border guards")))
    search = admin_client.get(records, {"term": "a\x00"})

    assert cite.status_code == search.status_code == 400
    assert not Citation.objects.exists()


def test_record_citation_row_starts_with_the_source_the_page_was_opened_from(admin_client, source):
    response = admin_client.get(admin_url(type(AreaFactory()), "add"), {"source": source.pk})

    inline = next(
        each for each in response.context["inline_admin_formsets"] if each.formset.model is Citation
    )
    assert inline.formset.empty_form.initial["source"] == source.pk


def test_inline_quote_not_found_offers_the_passage(admin_client, source):
    area = AreaFactory()
    url = admin_url(type(area), "change", area.pk)
    data = rendered_form_data(admin_client.get(url))
    data.update(
        {
            "citations-TOTAL_FORMS": 1,
            "citations-0-source": source.pk,
            "citations-0-quote": "exchange  experts",
        }
    )

    response = admin_client.post(url, data)

    assert 'data-passage="exchange experts"' in response.content.decode()
    assert not Citation.objects.exists()


def test_cite_refuses_a_record_the_user_may_not_change(client, django_user_model, source):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user(username="cites-only", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["add_citation", "view_source", "view_area"])
    )
    client.force_login(user)
    area = AreaFactory()

    response = client.post(cite_url(source), rows((area, "train border guards")))

    assert response.status_code == 400
    assert "You may not change this record" in str(errors_of(response)[0][0]["record"])
    assert not Citation.objects.exists()
