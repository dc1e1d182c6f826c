from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from . import history

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
