import pytest
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains
from reversion.models import Version

from cooperation.models import Activity, Citation, Participation, Publication, Role, Source

from .factories import (
    AreaFactory,
    CitationFactory,
    OrganisationFactory,
    ParticipationFactory,
    SourceFactory,
)
from .test_admin import (
    admin_url,
    form_errors,
    full_activity,
    inline_prefix,
    rendered_form_data,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def publisher(django_user_model):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username="pia", is_staff=True)
    user.groups.add(Group.objects.get(name="Publisher"))
    return user


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def save_page(client, record, **changes):
    """Open a record's change page and save it with `changes` over what it shows."""
    url = admin_url(type(record), "change", record.pk)
    data = rendered_form_data(client.get(url))
    return client.post(url, {**data, **changes})


def participation_rows(response, rows):
    """Form data that replaces the participation rows of a rendered activity page."""
    prefix = inline_prefix(response, Participation)
    initial = int(response.context["inline_admin_formsets"][0].formset.initial_form_count())
    data = {}
    for index in range(initial):
        data[f"{prefix}-{index}-DELETE"] = "on"
    for offset, (organisation, role) in enumerate(rows):
        index = initial + offset
        data[f"{prefix}-{index}-organisation"] = organisation.pk
        data[f"{prefix}-{index}-role"] = role
    data[f"{prefix}-TOTAL_FORMS"] = initial + len(rows)
    return data


def change_title_areas_participations(client, activity, title, areas, participations):
    url = admin_url(Activity, "change", activity.pk)
    page = client.get(url)
    data = {
        **rendered_form_data(page),
        "title": title,
        "areas": [area.pk for area in areas],
        **participation_rows(page, participations),
    }
    response = client.post(url, data)
    assert response.status_code == 302, form_errors(response)
    return response


def test_history_shows_each_fields_old_and_new_value(publisher):
    client = logged_in(publisher)
    activity = full_activity()
    old_area = activity.areas.get()
    new_area = AreaFactory(name="Resettlement")
    newcomer = OrganisationFactory(name="Frontex")
    save_page(client, activity)  # The first version: what the record was before.

    change_title_areas_participations(
        client, activity, "Joint training", [new_area], [(newcomer, Role.FUNDING)]
    )
    response = client.get(admin_url(Activity, "history", activity.pk))

    assertContains(response, f"<del>{activity.title}</del> → <ins>Joint training</ins>")
    assertContains(response, f"<del>{old_area.name}</del> → <ins>Resettlement</ins>")
    assertContains(response, "added <ins>Frontex (funding)</ins>")
    assertContains(response, "removed <del>", count=2)  # the two earlier participations
    assertContains(response, "First saved version.")
    assertContains(response, publisher.username)


def test_history_of_citation_change_shows_on_its_record(publisher):
    client = logged_in(publisher)
    citation = CitationFactory(
        activity=full_activity(),
        source__text="They train guards. They share data.",
        quote="They train guards.",
    )
    save_page(client, citation.activity)

    saved = save_page(client, citation, quote="They share data.")
    assert saved.status_code == 302, form_errors(saved)
    response = client.get(admin_url(Activity, "history", citation.activity_id))

    assertContains(response, "<ins>They share data.</ins>")


def test_revert_restores_title_areas_and_participations(publisher):
    client = logged_in(publisher)
    activity = full_activity()
    title = activity.title
    areas = set(activity.areas.all())
    participations = {(p.organisation, p.role) for p in activity.participations.all()}
    save_page(client, activity)
    first = Version.objects.get_for_object(activity).get()
    change_title_areas_participations(
        client, activity, "Changed", [AreaFactory()], [(OrganisationFactory(), Role.EXTENDING)]
    )

    url = admin_url(Activity, "revision", activity.pk, first.pk)
    response = client.post(url, rendered_form_data(client.get(url)))

    assert response.status_code == 302, form_errors(response)
    activity.refresh_from_db()
    assert activity.title == title
    assert set(activity.areas.all()) == areas
    assert {(p.organisation, p.role) for p in activity.participations.all()} == participations
    assert Version.objects.get_for_object(activity).count() == 3


@pytest.fixture
def source_cited_since_a_revision(publisher):
    """A source saved twice, and a citation of words that only its second text holds."""
    client = logged_in(publisher)
    source = SourceFactory(text="They train guards.")
    save_page(client, source)
    first = Version.objects.get_for_object(source).get()
    save_page(client, source, text="They train guards.\nThey share data.")
    citation = CitationFactory(source=source, area=AreaFactory(), quote="They share data.")
    return client, source, first, citation


def test_source_revert_that_loses_a_quote_refused(source_cited_since_a_revision):
    client, source, first, citation = source_cited_since_a_revision
    url = admin_url(Source, "revision", source.pk, first.pk)

    response = client.post(url, rendered_form_data(client.get(url)))

    assert response.status_code == 200
    assertContains(response, "The full text no longer holds the quotes of 1 of its citations")
    assertContains(response, admin_url(Citation, "change", citation.pk))
    source.refresh_from_db()
    assert source.text == "They train guards.\nThey share data."
    assert Version.objects.get_for_object(source).count() == 2


def test_source_revert_with_the_lost_citation_fixed_in_the_same_save(
    source_cited_since_a_revision,
):
    client, source, first, citation = source_cited_since_a_revision
    url = admin_url(Source, "revision", source.pk, first.pk)
    data = {**rendered_form_data(client.get(url)), "citations-0-quote": "train guards"}

    response = client.post(url, data)

    assert response.status_code == 302, form_errors(response)
    source.refresh_from_db()
    citation.refresh_from_db()
    assert (source.text, citation.quote) == ("They train guards.", "train guards")


def test_publish_action_is_a_version_in_history(publisher):
    client = logged_in(publisher)
    activity = full_activity()
    Activity.objects.filter(pk=activity.pk).update(publication=Publication.DRAFT)

    client.post(
        admin_url(Activity, "changelist"), {"action": "publish", "_selected_action": [activity.pk]}
    )

    version = Version.objects.get_for_object(activity).get()
    assert version.field_dict["publication"] == Publication.PUBLISHED
    assert version.revision.user == publisher
    assertContains(client.get(admin_url(Activity, "history", activity.pk)), "Published.")


def test_second_save_of_the_same_record_is_refused_and_keeps_what_was_typed(publisher):
    activity = full_activity()
    first, second = logged_in(publisher), logged_in(publisher)
    save_page(first, activity)
    url = admin_url(Activity, "change", activity.pk)
    first_form = rendered_form_data(first.get(url))
    second_form = rendered_form_data(second.get(url))

    assert first.post(url, {**first_form, "title": "Title by the first"}).status_code == 302
    response = second.post(url, {**second_form, "description": "Typed by the second"})

    assert response.status_code == 200
    assertContains(response, "changed this activity after you opened it")
    assertContains(response, f"Title: {activity.title} → Title by the first")
    assertContains(response, "Typed by the second")
    activity.refresh_from_db()
    assert activity.title == "Title by the first"
    assert activity.description != "Typed by the second"


def test_save_after_seeing_the_conflict_goes_through(publisher):
    activity = full_activity()
    first, second = logged_in(publisher), logged_in(publisher)
    url = admin_url(Activity, "change", activity.pk)
    second_form = rendered_form_data(second.get(url))
    save_page(first, activity, title="Title by the first")
    refused = second.post(url, {**second_form, "description": "Typed by the second"})

    response = second.post(url, rendered_form_data(refused))

    assert response.status_code == 302, form_errors(response)
    activity.refresh_from_db()
    assert activity.description == "Typed by the second"


def test_change_to_an_inline_row_elsewhere_counts_as_a_change_of_the_record(publisher):
    activity = full_activity()
    participation = activity.participations.first()
    first, second = logged_in(publisher), logged_in(publisher)
    url = admin_url(Activity, "change", activity.pk)
    second_form = rendered_form_data(second.get(url))

    save_page(first, participation, role=Role.ACCOUNTABLE)
    response = second.post(url, {**second_form, "title": "Typed by the second"})

    assert response.status_code == 200
    assertContains(response, "changed this activity after you opened it")
    assertContains(response, "Participation")
    assertNotContains(response, "Typed by the second</h1>")


def test_deleting_an_inline_row_elsewhere_is_in_the_records_history(publisher):
    client = logged_in(publisher)
    participation = ParticipationFactory()
    save_page(client, participation.activity)

    client.post(admin_url(Participation, "delete", participation.pk), {"post": "yes"})
    response = client.get(admin_url(Activity, "history", participation.activity_id))

    assertContains(response, f"removed <del>{participation}</del>")


def publish_through_admin(client, record):
    return client.post(
        admin_url(type(record), "changelist"),
        {"action": "publish", "_selected_action": [record.pk]},
    )


def test_changes_page_lists_published_changes_without_staff_names(publisher):
    client = logged_in(publisher)
    activity = full_activity()
    Activity.objects.filter(pk=activity.pk).update(publication=Publication.DRAFT)
    save_page(client, activity, title="Draft title")  # while a draft: never public
    publish_through_admin(client, activity)
    save_page(client, activity, title="Corrected title")

    response = Client().get("/changes/")

    assert response.status_code == 200
    assertContains(response, "Published: <a")
    assertContains(response, "Title: “Draft title” became “Corrected title”")
    assertNotContains(response, "Activity 0")
    assertNotContains(response, publisher.username)


def test_changes_page_leaves_out_drafts_and_records_that_are_not_public(publisher):
    client = logged_in(publisher)
    activity = full_activity()
    Activity.objects.filter(pk=activity.pk).update(publication=Publication.DRAFT)
    save_page(client, activity, title="Secret draft title")
    lone = OrganisationFactory(name="Unreferenced Agency")
    save_page(client, lone, description="Nobody refers to it yet")

    response = Client().get("/changes/")

    assertNotContains(response, "Secret draft title")
    assertNotContains(response, "Unreferenced Agency")
    assertContains(response, "No change has been recorded here yet.")


def test_changes_feed_is_atom_with_public_changes(publisher):
    client = logged_in(publisher)
    activity = full_activity()
    save_page(client, activity)
    save_page(client, activity, title="Corrected title")

    response = Client().get("/changes/feed/")

    assert response["Content-Type"].startswith("application/atom+xml")
    assertContains(response, "<title>Changed: Corrected title</title>")
    assertContains(response, activity.get_absolute_url())
    assertNotContains(response, publisher.username)


@pytest.mark.parametrize("before", ["abc", "0", "-3"])
def test_changes_page_bad_address_is_400(before):
    response = Client().get("/changes/", {"before": before})

    assertContains(response, "This page address is not valid", status_code=400)


def test_changes_page_continues_with_older_changes(publisher):
    client = logged_in(publisher)
    activity = full_activity()
    save_page(client, activity)
    for title in ["First", "Second", "Third"]:
        save_page(client, activity, title=title)

    from cooperation import history

    newest, more = history.public_changes(limit=2)
    older, _ = history.public_changes(before=more, limit=2)

    assert [change.record.pk for change in newest] == [activity.pk, activity.pk]
    assert "First" in str(older[0].changes[0])


def test_history_and_revert_keep_countries(publisher):
    client = logged_in(publisher)
    activity = full_activity()
    activity.countries.set(["FR"])
    save_page(client, activity)
    first = Version.objects.get_for_object(activity).get()

    saved = save_page(client, activity, countries=["DE"])
    assert saved.status_code == 302, form_errors(saved)
    history = client.get(admin_url(Activity, "history", activity.pk))
    assertContains(history, "<del>France</del> → <ins>Germany</ins>")

    url = admin_url(Activity, "revision", activity.pk, first.pk)
    response = client.post(url, rendered_form_data(client.get(url)))
    assert response.status_code == 302, form_errors(response)
    assert list(activity.countries.values_list("code", flat=True)) == ["FR"]
