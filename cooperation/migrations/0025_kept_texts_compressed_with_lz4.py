from django.db import migrations

KEPT = "cooperation_keptcells"
COLUMNS = ["cells", "iati_head", "iati_tail"]


def compressed_with(schema_editor, method, columns=COLUMNS):
    """
    Compress the kept texts `columns` with `method` where PostgreSQL has it. An export reads a kept
    row for every activity it writes, and lz4 gives the text back faster than PostgreSQL's
    own pglz: IATI XML of 20,000 activities came a tenth faster, the table as large. Rows
    already kept stay as they are until they are kept again (keep_export_cells --all).
    """
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'",
            [method],
        )
        if not cursor.fetchone()[0]:
            return
    changes = ", ".join(f"ALTER COLUMN {column} SET COMPRESSION {method}" for column in columns)
    schema_editor.execute(f"ALTER TABLE {KEPT} {changes}")


def compress_with_lz4(apps, schema_editor):
    compressed_with(schema_editor, "lz4")


def compress_as_before(apps, schema_editor):
    compressed_with(schema_editor, "pglz")


class Migration(migrations.Migration):

    dependencies = [
        ("cooperation", "0024_kept_iati_elements"),
    ]

    operations = [
        migrations.RunPython(compress_with_lz4, compress_as_before),
    ]
