from django.db import migrations


def fill(apps, schema_editor):
    # Imports cooperation/counts.py: later changes to it change what this does. At a million
    # activities it takes a minute or two.
    from cooperation import counts
    from cooperation.models import FacetCount

    using = schema_editor.connection.alias
    prefix = counts.narrowed(counts.AGREEMENT, "")
    FacetCount.objects.using(using).filter(list_name__startswith=prefix).delete()
    counts.rebuild_agreements(using)
    counts.forget(using)


class Migration(migrations.Migration):
    dependencies = [
        ("cooperation", "0020_facet_counts_narrowed"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
