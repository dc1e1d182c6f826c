"""
Activity.countries was a comma-separated string of ISO codes (django-countries'
CountryField(multiple=True)), which no index can serve. It becomes a many-to-many field to a
Country table seeded here from django-countries' list. Each activity keeps its codes, and so
do its stored versions (django-reversion), so that history and revert still read them.
The old field goes in the next migration: PostgreSQL does not alter a table in the
transaction that has just filled it while its foreign-key checks are still pending.
"""

import json

from django.db import migrations, models
from django_countries import countries as iso_countries


def codes_of(value):
    if not value:
        return []
    if isinstance(value, str):
        return [code for code in value.split(",") if code]
    return [getattr(country, "code", country) for country in value]


def seed_countries(apps, schema_editor):
    Country = apps.get_model("cooperation", "Country")
    Country.objects.bulk_create(
        [Country(code=code, name=str(name)) for code, name in iso_countries],
        ignore_conflicts=True,
    )


def copy_codes(apps, schema_editor):
    Activity = apps.get_model("cooperation", "Activity")
    Country = apps.get_model("cooperation", "Country")
    Link = Activity.new_countries.through
    known = set(Country.objects.values_list("code", flat=True))
    links = []
    for pk, value in Activity.objects.values_list("pk", "countries").iterator():
        for code in codes_of(value):
            if code not in known:  # A code django-countries no longer lists: keep it.
                Country.objects.create(code=code, name=code)
                known.add(code)
            links.append(Link(activity_id=pk, country_id=code))
    Link.objects.bulk_create(links, batch_size=1000, ignore_conflicts=True)


def copy_codes_back(apps, schema_editor):
    Activity = apps.get_model("cooperation", "Activity")
    Link = Activity.new_countries.through
    codes = {}
    for activity, code in Link.objects.order_by("country_id").values_list(
        "activity_id", "country_id"
    ):
        codes.setdefault(activity, []).append(code)
    for pk, activity_codes in codes.items():
        Activity.objects.filter(pk=pk).update(countries=",".join(activity_codes))


def rewrite_versions(apps, schema_editor, to_list=True):
    """Stored versions of activities hold the old string; give them the new list (or back)."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Version = apps.get_model("reversion", "Version")
    content_type = ContentType.objects.filter(app_label="cooperation", model="activity").first()
    if content_type is None:
        return
    versions = Version.objects.filter(content_type=content_type, format="json")
    for version in versions.iterator():
        data = json.loads(version.serialized_data)
        fields = data[0]["fields"]
        if "countries" not in fields:
            continue
        value = fields["countries"]
        if to_list and isinstance(value, str):
            fields["countries"] = codes_of(value)
        elif not to_list and isinstance(value, list):
            fields["countries"] = ",".join(value)
        else:
            continue
        Version.objects.filter(pk=version.pk).update(serialized_data=json.dumps(data))


def versions_back(apps, schema_editor):
    rewrite_versions(apps, schema_editor, to_list=False)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("reversion", "0002_add_index_on_version_for_content_type_and_db"),
        ("cooperation", "0006_region_pages"),
    ]

    operations = [
        migrations.CreateModel(
            name="Country",
            fields=[
                (
                    "code",
                    models.CharField(
                        help_text="Such as FR.",
                        max_length=2,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ISO 3166-1 alpha-2 code",
                    ),
                ),
                ("name", models.CharField(max_length=100)),
            ],
            options={
                "verbose_name_plural": "countries",
                "ordering": ["name"],
            },
        ),
        migrations.RunPython(seed_countries, migrations.RunPython.noop),
        migrations.AddField(
            model_name="activity",
            name="new_countries",
            field=models.ManyToManyField(
                blank=True, related_name="activities", to="cooperation.country"
            ),
        ),
        migrations.RunPython(copy_codes, copy_codes_back),
        migrations.RunPython(rewrite_versions, versions_back),
    ]
