"""
What the public may see, worked out once and kept in the cache until a record changes or
MAX_AGE passes: the home page's totals of organisations and areas (those of activities and
agreements are kept with the facet counts, counts.py), the number of public sources, which
organisations are public (the rule of OrganisationQuerySet.by_rule(), a query of some
thirty subqueries that takes Django longer to build than the database to answer, asked by
most pages several times), the filter forms as written out for each query string
(their few hundred options take longer to render than the rest of a list), and the number
of activities a search finds, for the next page of the same search (search_count()).
"""

import secrets

from django.core.cache import cache
from django.db.models.signals import post_save

KEY = "cooperation:public-totals"
ORGANISATIONS_KEY = "cooperation:public-organisations"
SOURCES_KEY = "cooperation:public-source-count"
VERSION_KEY = "cooperation:version"
SEARCH_VERSION_KEY = "cooperation:search-version"
#: Seconds a total may lag behind a change the ORM sends no signal for (bulk inserts,
#: update()) or one made in another process, whose cache this process does not share.
MAX_AGE = 60


def public_totals():
    """The home page's totals: activities and agreements from the table counts.py keeps."""
    from .counts import ACTIVITIES, AGREEMENTS, totals

    kept = totals()
    return {
        **cache.get_or_set(KEY, count_public, MAX_AGE),
        "activity_count": kept.get(ACTIVITIES, 0),
        "agreement_count": kept.get(AGREEMENTS, 0),
    }


def public_organisation_ids():
    """The ids of the organisations the public may see, in a frozenset."""
    return cache.get_or_set(ORGANISATIONS_KEY, find_public_organisations, MAX_AGE)


def public_source_count():
    """
    The number of sources cited on a public record, counted up to paging.COUNT_LIMIT + 1:
    each is tested by the rule of SourceQuerySet.cited_publicly(), which took 80 ms for the
    API's list of sources at a million activities.
    """
    return cache.get_or_set(SOURCES_KEY, count_sources, MAX_AGE)


def version():
    """
    A token that changes with the records, to key fragments of pages kept in the cache
    (the filter forms, whose options are the public areas, countries and regions).
    """
    return cache.get_or_set(VERSION_KEY, lambda: secrets.token_hex(8), None)


def search_count(query, count):
    """
    The number of activities the search and filters of `query` (a QueryDict) find, from
    `count()` once and then from the cache until any record is saved: a search for a
    common word reads tens of thousands of rows to count 10,001 of them (50 ms at a million
    activities), and each page of its results, and its .json twin, counted them again.
    """
    from .facets import filters_of

    search = cache.get_or_set(SEARCH_VERSION_KEY, lambda: secrets.token_hex(8), None)
    key = f"cooperation:search-count:{version()}:{search}:{filters_of(query)}"
    return cache.get_or_set(key, count, MAX_AGE)


def find_public_organisations():
    from .models import Organisation

    return frozenset(Organisation.objects.by_rule().values_list("pk", flat=True))


def count_public():
    from .models import Area

    return {
        # The ids kept for every page: counting them again by the rule took 140 ms at a
        # million activities.
        "organisation_count": len(public_organisation_ids()),
        "area_count": Area.objects.public().count(),
    }


def count_sources():
    from .models import Source
    from .paging import bounded_count

    return bounded_count(Source.objects.cited_publicly())


def remember_publication(sender, instance, **kwargs):
    """Receives each activity made or read: its publication as read, for forget()."""
    instance._publication_as_read = instance.__dict__.get("publication")


def forget(sender, signal=None, instance=None, created=False, **kwargs):
    """
    Receives every save, delete and link change; forgets all on one of this app's, except
    on the save of an activity that stays as public as it was. What is kept depends on
    which activities are published and on their links, never on their own columns, and an
    editor's save of an activity's text must not make every page count a million rows
    again: at a million activities that took longer than the save. The searches' counts
    alone, which read the text, are forgotten on that save too.
    """
    if sender._meta.app_label != "cooperation":
        return
    # What a search finds depends on the records' text too.
    cache.delete(SEARCH_VERSION_KEY)
    if signal is post_save and sender._meta.model_name == "activity" and not created:
        read, now = instance._publication_as_read, instance.__dict__.get("publication")
        instance._publication_as_read = now
        if read is not None and read == now:
            return
    cache.delete_many([KEY, ORGANISATIONS_KEY, SOURCES_KEY, VERSION_KEY])
