from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cooperation", "0007_countries_as_a_table"),
    ]

    operations = [
        migrations.RemoveField(model_name="activity", name="countries"),
        migrations.RenameField(
            model_name="activity", old_name="new_countries", new_name="countries"
        ),
    ]
