"""What cooperation/cached.py keeps is forgotten when a change can alter it, and only then."""

import pytest
from django.core.cache import cache

from cooperation import cached
from cooperation.models import Activity, Publication

from .factories import ActivityFactory, ParticipationFactory
from .test_admin import admin_url, form_errors, full_activity, rendered_form_data

pytestmark = pytest.mark.django_db

KEYS = [cached.KEY, cached.ORGANISATIONS_KEY, cached.VERSION_KEY]


def activity_as(publication):
    activity = full_activity()
    activity.publication = publication
    activity.save()
    return activity


def published_activity():
    return activity_as(Publication.PUBLISHED)


def fill_cache():
    cached.public_totals(), cached.public_organisation_ids(), cached.version()
    assert set(cache.get_many(KEYS)) == set(KEYS)


def save_through_admin(client, activity, **changes):
    url = admin_url(Activity, "change", activity.pk)
    response = client.post(url, {**rendered_form_data(client.get(url)), **changes})
    assert response.status_code == 302, form_errors(response)


def test_editing_a_published_activitys_text_keeps_the_cache(admin_client):
    activity = published_activity()
    fill_cache()

    save_through_admin(admin_client, activity, description="Described again.")

    assert Activity.objects.get(pk=activity.pk).description == "Described again."
    assert set(cache.get_many(KEYS)) == set(KEYS)


def test_returning_an_activity_to_draft_forgets_the_totals(admin_client):
    activity = published_activity()
    assert cached.public_totals()["activity_count"] == 1

    save_through_admin(admin_client, activity, _return_to_draft="Return to draft")

    assert Activity.objects.get(pk=activity.pk).publication == Publication.DRAFT
    assert cached.public_totals()["activity_count"] == 0


def test_publishing_an_activity_forgets_the_totals(admin_client):
    activity = activity_as(Publication.DRAFT)
    assert cached.public_totals()["activity_count"] == 0

    save_through_admin(admin_client, activity, _publish="Save and publish")

    assert cached.public_totals()["activity_count"] == 1


def test_a_new_activity_or_a_new_participation_forgets_all():
    fill_cache()
    ActivityFactory()
    assert cache.get_many(KEYS) == {}

    fill_cache()
    ParticipationFactory()
    assert cache.get_many(KEYS) == {}


def test_a_save_of_an_activity_read_without_its_publication_forgets_all():
    activity = published_activity()
    fill_cache()

    partial = Activity.objects.only("pk", "title").get(pk=activity.pk)
    partial.title = "Renamed"
    partial.save(update_fields=["title"])

    assert cache.get_many(KEYS) == {}
