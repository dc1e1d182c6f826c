from dataclasses import dataclass

from django.contrib.syndication.views import Feed
from django.db.models import prefetch_related_objects
from django.http import HttpResponseBadRequest, QueryDict
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import strip_tags

from . import history
from .filters import PAGE_PARAMETERS, ListFilterSet
from .paging import Key
from .views import ActivityListView, AgreementListView

FEED_ITEMS = 50


class ChangeFeed(Feed):
    feed_type = Atom1Feed
    title = "Cooperation tracker: recent changes"
    subtitle = "Changes to the published records of the cooperation tracker, newest first."

    def link(self):
        return reverse("cooperation:changes")

    def items(self):
        changes, _ = history.public_changes(limit=FEED_ITEMS)
        return changes

    def item_title(self, change):
        return f"{change.headline}: {change.record}"

    def item_description(self, change):
        return "\n".join(str(line) for line in change.changes) or change.headline

    def item_link(self, change):
        return change.record.get_absolute_url()

    def item_guid(self, change):
        return f"{change.record.get_absolute_url()}#version-{change.version_id}"

    item_guid_is_permalink = False

    def item_updateddate(self, change):
        return change.date

    def item_pubdate(self, change):
        return change.date


class InvalidFilters(Exception):
    """A feed asked for with filters its list refuses."""


@dataclass
class Filtered:
    """A list's valid filters, and its query without the page parameters."""

    filterset: ListFilterSet
    query: QueryDict

    @property
    def words(self):
        """The query as a reader would write it: "organisation=iom, area=training"."""
        return ", ".join(
            f"{name}={value}" for name, values in self.query.lists() for value in values
        )

    def address(self, url):
        return f"{url}?{self.query.urlencode()}" if self.query else url


def newest(queryset, size):
    """
    The `size` most recently published rows of `queryset`: by the time they were last
    published, then those loaded without one (fixtures, imports) by key, each part read
    through an index as a list's cursor pages are (paging.Key). Both parts are always
    read, so a feed costs the same queries however few rows its filters leave.
    """
    key = Key("published_at", descending=True, nullable=True)
    rows = []
    for segment in key.segments(queryset.prefetch_related(None), None, backwards=False):
        rows += segment[:size]
    rows = rows[:size]
    prefetch_related_objects(rows, *queryset._prefetch_related_lookups)
    return rows


class ListFeed(Feed):
    """
    The newest published records of a public list (`list_view`), filtered by the list's
    own query parameters with its FilterSet; filters the list refuses answer 400.
    """

    feed_type = Atom1Feed
    list_view = None
    list_name = ""
    feed_name = ""
    noun = ""

    def __call__(self, request, *args, **kwargs):
        try:
            return super().__call__(request, *args, **kwargs)
        except InvalidFilters as error:
            return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")

    def get_object(self, request):
        filterset = self.list_view.filterset_class(
            request.GET, queryset=self.list_view.queryset, request=request
        )
        if not filterset.is_valid():
            raise InvalidFilters(
                "\n".join(
                    f"{name}: {strip_tags(message)}"
                    for name, messages in filterset.errors.items()
                    for message in messages
                )
            )
        query = request.GET.copy()
        for name in PAGE_PARAMETERS:
            query.pop(name, None)
        return Filtered(filterset, query)

    def title(self, filtered):
        title = f"Cooperation tracker: newly published {self.noun}"
        return f"{title} ({filtered.words})" if filtered.query else title

    def subtitle(self, filtered):
        return f"The most recently published of the {self.noun} at {self.link(filtered)}."

    def link(self, filtered):
        return filtered.address(reverse(self.list_name))

    def feed_url(self, filtered):
        return filtered.address(reverse(self.feed_name))

    def items(self, filtered):
        return newest(filtered.filterset.qs, FEED_ITEMS)

    def item_pubdate(self, record):
        return record.published_at

    def item_updateddate(self, record):
        return record.changed_at


class ActivityFeed(ListFeed):
    list_view = ActivityListView
    list_name = "cooperation:activity-list"
    feed_name = "cooperation:activity-feed"
    noun = "activities"

    def get_object(self, request):
        filtered = super().get_object(request)
        # Newest first even when searching: the rows a search finds are never ranked.
        filtered.filterset.relevance_limit = -1
        return filtered

    def item_description(self, activity):
        organisations = ", ".join(
            f"{taking_part.organisation.short_name} ({taking_part.get_role_display().lower()})"
            for taking_part in activity.participations.all()
        )
        return f"{activity.get_status_display()}: {organisations}\n{activity.description}".strip()

    def item_categories(self, activity):
        return [area.name for area in activity.areas.all()]


class AgreementFeed(ListFeed):
    list_view = AgreementListView
    list_name = "cooperation:agreement-list"
    feed_name = "cooperation:agreement-feed"
    noun = "agreements"

    def item_description(self, agreement):
        parties = ", ".join(party.short_name for party in agreement.parties.all())
        return f"{agreement.get_kind_display()} between {parties}\n{agreement.summary}".strip()
