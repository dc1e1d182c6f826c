"""
Migrations run on a database that already holds rows: migrated back to the state before one,
filled through that state's models, then migrated forward again.
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from cooperation import search
from cooperation.models import Activity, Citation, Source

BEFORE_LINE_FEEDS = [("cooperation", "0011_web_addresses_http_or_https")]

# Each test leaves the schema as it found it; serialized_rollback brings back the rows that
# migrations load (countries, roles), which a transactional test's flush removes.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def migrated_back():
    """The app's models as they were before 0012, with the database migrated back to them."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_LINE_FEEDS)
    yield executor.loader.project_state(BEFORE_LINE_FEEDS).apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_line_feeds_migration_unifies_stored_line_endings(migrated_back):
    def model(name):
        return migrated_back.get_model("cooperation", name)

    area = model("Area").objects.create(name="Training", slug="training")
    source = model("Source").objects.create(
        slug="release", title="Release", text="Article 1\r\nThe parties\rtrain.\n"
    )
    model("Citation").objects.create(source=source, area=area, quote="Article 1\r\nThe parties")
    model("Citation").objects.create(source=source, area=area, quote="train.")
    model("Activity").objects.create(slug="course", title="Seismology course")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    search.repair_after_migrate(using=connection.alias)  # As `migrate` does, on its signal.

    assert Source.objects.get().text == "Article 1\nThe parties\ntrain.\n"
    assert set(Citation.objects.values_list("quote", flat=True)) == {
        "Article 1\nThe parties",
        "train.",
    }
    assert search.installed(connection)
    assert [a.slug for a in search.activities(Activity.objects.all(), "seismology")] == ["course"]
