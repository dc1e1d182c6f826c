import pytest
from django.urls import clear_script_prefix, reverse, set_script_prefix

from .factories import (
    ActivityFactory,
    AgreementFactory,
    AreaFactory,
    OrganisationFactory,
    RegionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def records():
    return [
        ("organisation-detail", "slug", OrganisationFactory()),
        ("area-detail", "slug", AreaFactory()),
        ("region-detail", "slug", RegionFactory()),
        ("agreement-detail", "pk", AgreementFactory()),
        ("activity-detail", "pk", ActivityFactory()),
    ]


def test_a_records_address_is_the_one_reverse_gives(records):
    for url_name, key, record in records:
        expected = reverse(f"cooperation:{url_name}", args=[getattr(record, key)])
        assert record.get_absolute_url() == expected


def test_a_records_address_follows_the_script_prefix_of_the_moment(records):
    for _, _, record in records:
        record.get_absolute_url()  # The parts are kept from here on.
    set_script_prefix("/tracker/")
    try:
        for url_name, key, record in records:
            expected = reverse(f"cooperation:{url_name}", args=[getattr(record, key)])
            assert expected.startswith("/tracker/")
            assert record.get_absolute_url() == expected
    finally:
        clear_script_prefix()
