import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cooperation.management.commands.generate_demo import COMMON_WORD, RARE_WORD
from cooperation.models import (
    Activity,
    Agreement,
    Citation,
    Organisation,
    Publication,
    Signatory,
)

from .factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def generate(*args):
    out = io.StringIO()
    call_command("generate_demo", *args, stdout=out)
    return out.getvalue()


def test_generate_demo_makes_a_publishable_set():
    out = generate("--activities=300", "--batch-size=70")

    assert "done" in out
    assert Activity.objects.count() == 300
    assert Organisation.objects.count() == 300
    published = Activity.objects.public()
    assert 0.8 < published.count() / 300 < 0.97
    for record in [*published, *Agreement.objects.public()]:
        assert record.publication_problems() == [], record
    for citation in Citation.objects.select_related("source"):
        assert citation.quote in citation.source.text
    for signatory in Signatory.objects.select_related("agreement"):
        assert signatory.organisation in signatory.agreement.parties.all()
    assert Activity.objects.filter(start_date__isnull=True).exists()
    assert Activity.objects.filter(publication=Publication.DRAFT).exists()
    common = Activity.objects.filter(title__icontains=COMMON_WORD).count()
    assert common >= 0.2 * 300
    assert Activity.objects.filter(description__icontains=RARE_WORD).count() == 1
    assert Activity.objects.filter(countries__isnull=False).distinct().count() == 300
    activity = published.first()
    activity.full_clean()
    activity.citations.get().full_clean()


def test_generate_demo_is_the_same_with_the_same_seed():
    generate("--activities=50", "--seed=7")
    first = list(Activity.objects.order_by("pk").values_list("title", "description"))
    Activity.objects.all().delete()
    generate("--activities=50", "--seed=7", "--force")
    second = list(Activity.objects.order_by("pk").values_list("title", "description"))

    assert [(title.removesuffix(" (set 2)"), text) for title, text in second] == first


def test_generate_demo_refuses_a_database_with_records_unless_forced():
    OrganisationFactory(slug="real")

    with pytest.raises(CommandError, match="only with --force"):
        generate("--activities=10")
    assert Activity.objects.count() == 0

    generate("--activities=10", "--force")
    assert Activity.objects.count() == 10
    assert Organisation.objects.get(slug="real")
    assert Organisation.objects.filter(slug__startswith="demo2-").count() == 300
