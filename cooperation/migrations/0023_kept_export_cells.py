import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def first_names_version(apps, schema_editor):
    NamesVersion = apps.get_model("cooperation", "NamesVersion")
    NamesVersion.objects.using(schema_editor.connection.alias).get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("cooperation", "0022_sources_newest_first"),
    ]

    operations = [
        migrations.CreateModel(
            name="KeptCells",
            fields=[
                (
                    "activity",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="cooperation.activity",
                    ),
                ),
                ("links_changed_at", models.DateTimeField()),
                ("names_version", models.BigIntegerField()),
                ("layout", models.CharField(max_length=64)),
                ("texts", models.JSONField()),
            ],
            options={
                "verbose_name_plural": "kept cells",
            },
        ),
        migrations.CreateModel(
            name="NamesVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.AddField(
            model_name="activity",
            name="links_changed_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, editable=False, verbose_name="links last changed"
            ),
        ),
        migrations.RunPython(first_names_version, migrations.RunPython.noop),
    ]
