import importlib

from django.db import migrations, models

compression = importlib.import_module("cooperation.migrations.0025_kept_texts_compressed_with_lz4")


def compress_with_lz4(apps, schema_editor):
    """The kept JSON compressed with lz4, as the other kept texts (0025)."""
    compression.compressed_with(schema_editor, "lz4", ["json"])


class Migration(migrations.Migration):

    dependencies = [
        ("cooperation", "0026_links_by_linked_record"),
    ]

    operations = [
        migrations.AddField(
            model_name="keptcells",
            name="json",
            field=models.TextField(default=""),
        ),
        migrations.RunPython(compress_with_lz4, migrations.RunPython.noop),
    ]
