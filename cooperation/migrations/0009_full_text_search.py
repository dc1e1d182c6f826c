# Full-text search: FTS5 tables and triggers on SQLite, generated tsvector columns with GIN
# indexes on PostgreSQL. Nothing in the models describes them, so no other database gets
# them and makemigrations never sees them.

from django.db import migrations

from cooperation import search


def install(apps, schema_editor):
    if schema_editor.connection.vendor in {"sqlite", "postgresql"}:
        search.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor in {"sqlite", "postgresql"}:
        search.uninstall(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('cooperation', '0008_countries_replace_the_string'),
    ]

    operations = [
        migrations.RunPython(install, uninstall, elidable=False),
    ]
