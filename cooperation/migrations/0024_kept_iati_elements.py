from django.db import migrations, models


def forget_kept_cells(apps, schema_editor):
    # Kept the old way: keep_export_cells keeps them again.
    table = apps.get_model("cooperation", "KeptCells")._meta.db_table
    empty = "TRUNCATE" if schema_editor.connection.vendor == "postgresql" else "DELETE FROM"
    schema_editor.execute(f"{empty} {table}")


class Migration(migrations.Migration):
    dependencies = [
        ("cooperation", "0023_kept_export_cells"),
    ]

    operations = [
        migrations.RunPython(forget_kept_cells, migrations.RunPython.noop),
        migrations.RemoveField(model_name="keptcells", name="texts"),
        migrations.AddField(
            model_name="keptcells",
            name="changed_at",
            field=models.DateTimeField(default=None),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="keptcells",
            name="cells",
            field=models.JSONField(default=dict),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="keptcells",
            name="iati_head",
            field=models.TextField(default=""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="keptcells",
            name="iati_tail",
            field=models.TextField(default=""),
            preserve_default=False,
        ),
    ]
