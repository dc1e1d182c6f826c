"""
A backup restored into an empty database gives back every row under its primary key, the
history, the search index and every public page at its address; `restore` refuses to
overwrite records and says what is wrong with a file it cannot use.
"""

import io
import shutil
import sqlite3
from contextlib import contextmanager

import pytest
import reversion
from django.apps import apps
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.utils import load_backend
from django.urls import reverse
from reversion.models import Version

from cooperation import backups, search
from cooperation.models import Activity, Agreement, Area, Organisation, Region

from .factories import ActivityFactory, AreaFactory, OrganisationFactory, ParticipationFactory
from .test_seed import load_seed

# pg_dump reads only committed rows; serialized_rollback brings back the rows migrations
# load (countries, roles), which a transactional test's flush removes.
committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)

#: What `restore` says of a file cut short: its checks, or pg_restore's failure.
DAMAGED = "damaged|not a readable|could not be restored"


@pytest.fixture
def populated():
    """The seed data, and activities with several versions each, one of them deleted."""
    load_seed()
    iom = Organisation.objects.get(slug="iom")
    with reversion.create_revision():
        partner = OrganisationFactory()
        activities = ActivityFactory.create_batch(3, areas=[AreaFactory()])
        for activity in activities:
            ParticipationFactory(activity=activity, organisation=iom)
            ParticipationFactory(activity=activity, organisation=partner)
    with reversion.create_revision():
        activities[0].title = "Border training, second edition"
        activities[0].save()
    # A gap in the ids: a renumbering copy would move the last activity's address.
    with reversion.create_revision():
        activities[1].delete()


@pytest.fixture
def empty_database(tmp_path):
    """
    A connection to a second, empty database of the same kind. Made here rather than
    named in DATABASES, which Django's test case would refuse to connect to.
    """
    settings = {**connection.settings_dict}
    if connection.vendor == "sqlite":
        settings["NAME"] = str(tmp_path / "restored.sqlite3")
    else:
        settings["NAME"] = f"{connection.settings_dict['NAME']}_restored"
        name = connection.ops.quote_name(settings["NAME"])
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
            cursor.execute(f"CREATE DATABASE {name}")
    restored = load_backend(settings["ENGINE"]).DatabaseWrapper(settings, alias="restored")
    yield restored
    restored.close()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def backup_file(tmp_path):
    suffix = "sqlite3" if connection.vendor == "sqlite" else "dump"
    path = tmp_path / f"backup.{suffix}"
    call_command("backup", output=str(path), stdout=io.StringIO())
    return path


@pytest.fixture(autouse=True)
def postgres_client_tools():
    if connection.vendor == "postgresql" and not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed: the PostgreSQL client tools are needed")


@contextmanager
def serving_from(database):
    """Queries and requests go to the connection `database` meanwhile."""
    default = connections[DEFAULT_DB_ALIAS]
    connections[DEFAULT_DB_ALIAS] = database
    try:
        yield
    finally:
        connections[DEFAULT_DB_ALIAS] = default


def every_row():
    """Every row of every table, by model, in primary key order."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values_list())
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }


def history():
    return list(
        Version.objects.order_by("pk").values_list(
            "pk", "revision_id", "content_type__model", "object_id", "serialized_data"
        )
    )


def public_urls():
    lists = ["home", "activity-list", "organisation-list", "area-list", "region-list"]
    records = [Activity, Agreement, Organisation, Area, Region]
    return [
        *(
            reverse(f"cooperation:{name}")
            for name in [*lists, "agreement-list", "changes", "changes-feed"]
        ),
        *(row.get_absolute_url() for model in records for row in model.objects.public()),
    ]


def pages(client, urls):
    cache.clear()  # The totals on the pages are cached.
    return {
        url: (response.status_code, response.content)
        for url in urls
        for response in [client.get(url)]
    }


def found_by_search():
    return {
        "activities": set(search.activities(Activity.objects.all(), "iom train")),
        "organisations": set(search.organisations(Organisation.objects.all(), "iom")),
    }


def sqlite_connection(path):
    """A connection to the SQLite file at `path`, as the site would open it."""
    databases = {DEFAULT_DB_ALIAS: {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}}
    settings = connections.configure_settings(databases)[DEFAULT_DB_ALIAS]
    return load_backend(settings["ENGINE"]).DatabaseWrapper(settings, alias="site")


def restore(path, *args):
    call_command("restore", str(path), *args, stdout=io.StringIO())


@committed
def test_backup_restores_every_row_history_and_public_address(
    client, populated, backup_file, empty_database
):
    rows, versions, urls = every_row(), history(), public_urls()
    answers = pages(client, urls)
    assert len(rows["cooperation.Activity"]) == 5
    assert len(versions) > 50
    assert {status for status, _ in answers.values()} == {200}

    with serving_from(empty_database):
        restore(backup_file)

        assert every_row() == rows
        assert history() == versions
        assert public_urls() == urls
        assert pages(client, urls) == answers


@committed
def test_backup_restores_the_search_index(populated, backup_file, empty_database):
    found = found_by_search()

    with serving_from(empty_database):
        restore(backup_file)

        assert found_by_search() == found
    assert len(found["activities"]) == 2


@committed
def test_restored_database_gives_new_records_new_ids(populated, backup_file, empty_database):
    deleted = {
        int(pk) for pk in Version.objects.get_deleted(Activity).values_list("object_id", flat=True)
    }

    with serving_from(empty_database):
        restore(backup_file)
        restored = ActivityFactory()
    original = ActivityFactory()

    assert deleted
    assert restored.pk == original.pk
    assert restored.pk not in deleted


@committed
def test_restore_refuses_a_database_with_records(populated, backup_file):

    with pytest.raises(CommandError, match="holds records.*--force"):
        restore(backup_file)


@committed
def test_restore_with_force_replaces_the_records(populated, backup_file):
    rows = every_row()
    Activity.objects.order_by("pk").first().delete()

    restore(backup_file, "--force")

    assert every_row() == rows


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (None, "No backup file at"),
        (b"", "neither a SQLite database nor a pg_dump archive"),
        (b"name,slug\nIOM,iom\n", "neither a SQLite database nor a pg_dump archive"),
    ],
)
def test_restore_explains_a_file_it_cannot_use(tmp_path, content, error):
    path = tmp_path / "backup"
    if content is not None:
        path.write_bytes(content)

    with pytest.raises(CommandError, match=error):
        restore(path)


@committed
def test_restore_refuses_a_damaged_backup(populated, backup_file, empty_database):
    data = backup_file.read_bytes()
    backup_file.write_bytes(data[: len(data) // 3])

    with serving_from(empty_database), pytest.raises(CommandError, match=DAMAGED):
        restore(backup_file)
    assert empty_database.introspection.table_names() == []


def test_restore_refuses_a_backup_of_the_other_database(tmp_path):
    other = {"sqlite": b"PGDMP\x01\x0f\x00", "postgresql": b"SQLite format 3\x00"}
    path = tmp_path / "backup"
    path.write_bytes(other[connection.vendor] + bytes(100))

    with pytest.raises(CommandError, match=f"DATABASE_URL names a {connection.vendor}"):
        restore(path)


def test_sqlite_backup_is_taken_while_an_editor_saves(tmp_path, django_db_blocker):
    """An editor's open transaction neither holds the backup up nor gets half into it."""
    live = tmp_path / "live.sqlite3"
    editor = sqlite3.connect(live, isolation_level=None)
    editor.execute("PRAGMA journal_mode=WAL")
    editor.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT)")
    editor.execute("INSERT INTO note (text) VALUES ('saved')")
    editor.execute("BEGIN IMMEDIATE")
    editor.execute("INSERT INTO note (text) VALUES ('being saved')")
    site = sqlite_connection(live)

    with django_db_blocker.unblock():  # A file of its own, not the test database.
        path = backups.backup(site, tmp_path / "backup.sqlite3")
        site.close()
    editor.execute("COMMIT")

    copy = sqlite3.connect(path)
    assert copy.execute("SELECT text FROM note").fetchall() == [("saved",)]
    assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert sorted(item.name for item in tmp_path.iterdir()) == [
        "backup.sqlite3",
        "live.sqlite3",
        "live.sqlite3-shm",
        "live.sqlite3-wal",
    ]
