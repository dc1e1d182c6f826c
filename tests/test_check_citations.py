import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cooperation.models import Citation, Source

from .factories import AreaFactory, CitationFactory, SourceFactory

pytestmark = pytest.mark.django_db


def check_citations(*args, out=None):
    out = out or io.StringIO()
    call_command("check_citations", *args, stdout=out)
    return out.getvalue()


def test_check_citations_passes_on_the_seed_data():
    call_command("load_seed", stdout=io.StringIO())

    assert check_citations() == (
        f"All {Citation.objects.count()} citations are found in their sources.\n"
    )


@pytest.mark.parametrize("batch", ["1", "100"])
def test_check_citations_lists_each_lost_quote_and_fails(batch):
    CitationFactory(area=AreaFactory())
    lost = [
        CitationFactory(area=AreaFactory(), source=SourceFactory(slug=f"edited-{n}"))
        for n in range(2)
    ]
    # Written around the admin, which would refuse it.
    Source.objects.filter(slug__startswith="edited").update(text="The parties parted ways.")
    out = io.StringIO()

    with pytest.raises(CommandError) as excinfo:
        check_citations("--batch", batch, out=out)

    assert excinfo.value.returncode == 1
    assert str(excinfo.value) == (
        "2 of 3 citations quote words that their source's text does not hold."
    )
    lines = out.getvalue().splitlines()
    assert lines == [
        f"Citation {citation.pk} (/admin/cooperation/citation/{citation.pk}/change/) of "
        f"source {citation.source.slug}: “work together on training”"
        for citation in lost
    ]


def test_check_citations_on_an_empty_database():
    assert check_citations() == "All 0 citations are found in their sources.\n"


def test_check_citations_refuses_a_batch_below_one():
    with pytest.raises(CommandError, match="--batch"):
        check_citations("--batch", "0")
