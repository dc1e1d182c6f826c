"""
The totals of public records on the home page: counted once, then kept in the cache until
a record changes or MAX_AGE passes. At a million activities counting them takes longer than
a page may, and every visitor to the home page would otherwise pay for it.
"""

from django.core.cache import cache

KEY = "cooperation:public-totals"
#: Seconds a total may lag behind a change the ORM sends no signal for (bulk inserts,
#: update()) or one made in another process, whose cache this process does not share.
MAX_AGE = 60


def public_totals():
    return cache.get_or_set(KEY, count_public, MAX_AGE)


def count_public():
    from .models import Activity, Agreement, Area, Organisation

    return {
        "activity_count": Activity.objects.public().count(),
        "organisation_count": Organisation.objects.public().count(),
        "agreement_count": Agreement.objects.public().count(),
        "area_count": Area.objects.public().count(),
    }


def forget(sender, **kwargs):
    """Receives every save, delete and link change; drops the totals on one of this app's."""
    if sender._meta.app_label == "cooperation":
        cache.delete(KEY)
