# Sources' texts and citations' quotes end every line in LF: the field turns CRLF and CR
# into LF on every write, rows already stored are turned here, and a constraint refuses a
# carriage return written around the ORM. The data step comes before the constraints.

import cooperation.models
from django.db import migrations, models
from django.db.models import Value
from django.db.models.functions import Replace

#: The columns whose line endings are unified: (model, field).
COLUMNS = [("source", "text"), ("citation", "quote")]


def unify_line_endings(apps, schema_editor):
    """Turn CRLF, then any CR left, into LF in the rows that hold a CR, in the database."""
    for model_name, field in COLUMNS:
        model = apps.get_model("cooperation", model_name)
        unified = Replace(Replace(field, Value("\r\n"), Value("\n")), Value("\r"), Value("\n"))
        model.objects.using(schema_editor.connection.alias).filter(
            **{f"{field}__contains": "\r"}
        ).update(**{field: unified})


class Migration(migrations.Migration):

    dependencies = [
        ('cooperation', '0011_web_addresses_http_or_https'),
    ]

    operations = [
        migrations.AlterField(
            model_name='citation',
            name='quote',
            field=cooperation.models.VerbatimTextField(help_text="Copied letter for letter from the source's full text (line endings aside), at most 1000 characters. Shown publicly on the page of the record it supports, except for a person's."),
        ),
        migrations.AlterField(
            model_name='source',
            name='text',
            field=cooperation.models.VerbatimTextField(help_text='The whole document, as published. Staff only: it may hold contact details.', verbose_name='full text'),
        ),
        migrations.RunPython(unify_line_endings, migrations.RunPython.noop, elidable=False),
        migrations.AddConstraint(
            model_name='citation',
            constraint=models.CheckConstraint(condition=models.Q(('quote__contains', '\r'), _negated=True), name='cooperation_citation_quote_without_carriage_return', violation_error_message='The quote holds a carriage return; lines end in LF.'),
        ),
        migrations.AddConstraint(
            model_name='source',
            constraint=models.CheckConstraint(condition=models.Q(('text__contains', '\r'), _negated=True), name='cooperation_source_text_without_carriage_return', violation_error_message='The text holds a carriage return; lines end in LF.'),
        ),
    ]
