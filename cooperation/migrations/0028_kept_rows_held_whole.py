from django.db import migrations

KEPT = "cooperation_keptcells"
#: Bytes a kept row may take, compressed, before PostgreSQL moves its largest text out to
#: the table's TOAST (2,032 by default, which a kept row with its JSON passes).
WHOLE_ROW = 4000


def held_in_row(schema_editor, target):
    """
    Have PostgreSQL keep each kept row's texts in the row itself up to `target` bytes (None:
    its default), compressing the largest until the row fits. An export of JSON reads one kept row for every activity:
    with the JSON moved out, each read took a second index lookup, and at a million
    activities a chunk of 2,000 took about a fifth longer. Rows already kept stay as they
    are until they are kept again (keep_export_cells --all).
    """
    if schema_editor.connection.vendor != "postgresql":
        return
    if target is None:
        schema_editor.execute(f"ALTER TABLE {KEPT} RESET (toast_tuple_target)")
    else:
        schema_editor.execute(f"ALTER TABLE {KEPT} SET (toast_tuple_target = {target})")


def hold_rows_whole(apps, schema_editor):
    held_in_row(schema_editor, WHOLE_ROW)


def hold_rows_as_before(apps, schema_editor):
    held_in_row(schema_editor, None)


class Migration(migrations.Migration):

    dependencies = [
        ("cooperation", "0027_kept_json"),
    ]

    operations = [
        migrations.RunPython(hold_rows_whole, hold_rows_as_before),
    ]
