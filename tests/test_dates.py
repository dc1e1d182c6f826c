import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from pytest_django.asserts import assertContains

from cooperation.dates import FIRST, LAST, Precision, parse, shown
from cooperation.models import Activity

from .factories import ActivityFactory, AgreementFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "edge", "day", "precision"),
    [
        ("22 January 2026", FIRST, datetime.date(2026, 1, 22), Precision.DAY),
        ("22 Jan 2026", FIRST, datetime.date(2026, 1, 22), Precision.DAY),
        ("22 jan. 2026", FIRST, datetime.date(2026, 1, 22), Precision.DAY),
        ("22/01/2026", FIRST, datetime.date(2026, 1, 22), Precision.DAY),
        ("2026-01-22", LAST, datetime.date(2026, 1, 22), Precision.DAY),
        ("  January   2026 ", FIRST, datetime.date(2026, 1, 1), Precision.MONTH),
        ("February 2024", LAST, datetime.date(2024, 2, 29), Precision.MONTH),
        ("2026-03", LAST, datetime.date(2026, 3, 31), Precision.MONTH),
        ("2012", FIRST, datetime.date(2012, 1, 1), Precision.YEAR),
        ("2012", LAST, datetime.date(2012, 12, 31), Precision.YEAR),
    ],
)
def test_parse_reads_dates_as_releases_write_them(text, edge, day, precision):
    found = parse(text, edge)

    assert found == day
    assert found.precision == precision


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("31 February 2012", "February 2012 has no day 31"),
        ("29/02/2023", "February 2023 has no day 29"),
        ("2012-13", "there is no month 13"),
        ("22 Janvier 2026", "no month is called “janvier”"),
        ("next spring", "Write it as 22 January 2026"),
        ("01/22/2026", "there is no month 22"),
    ],
)
def test_parse_refuses_with_a_message_naming_the_problem(text, message):
    with pytest.raises(ValidationError) as refused:
        parse(text)

    assert message in refused.value.messages[0]


@pytest.mark.parametrize(
    ("precision", "words"),
    [(Precision.DAY, "22 January 2026"), (Precision.MONTH, "January 2026"), ("year", "2026")],
)
def test_shown_says_no_more_than_is_known(precision, words):
    assert shown(datetime.date(2026, 1, 22), precision) == words


def test_admin_saves_a_year_and_a_month_and_shows_them_back(admin_client):
    activity = ActivityFactory(title="Ancient", start_date=None, end_date=None)
    url = reverse("admin:cooperation_activity_change", args=[activity.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(
        start_date="March 2012",
        end_date="2013",
        **{f"{prefix}-TOTAL_FORMS": "0" for prefix in ["participations", "citations"]},
        **{f"{prefix}-INITIAL_FORMS": "0" for prefix in ["participations", "citations"]},
    )
    data["areas"] = [area.pk for area in activity.areas.all()]
    data["countries"], data["regions"] = [], []

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    activity.refresh_from_db()
    assert (activity.start_date, activity.start_date_precision) == (
        datetime.date(2012, 3, 1),
        Precision.MONTH,
    )
    assert (activity.end_date, activity.end_date_precision) == (
        datetime.date(2013, 12, 31),
        Precision.YEAR,
    )
    again = admin_client.get(url)
    assertContains(again, 'value="March 2012"')
    public = admin_client.get(activity.get_absolute_url())
    assertContains(public, "March 2012 to 2013")


def test_admin_refuses_an_impossible_date_and_saves_nothing(admin_client):
    agreement = AgreementFactory(signed_on=datetime.date(2019, 7, 22))
    url = reverse("admin:cooperation_agreement_change", args=[agreement.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(signed_on="31 February 2012")
    for prefix in ["signatories", "citations"]:
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data["parties"] = [party.pk for party in agreement.parties.all()]
    data["areas"] = [area.pk for area in agreement.areas.all()]

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assertContains(response, "February 2012 has no day 31")
    agreement.refresh_from_db()
    assert agreement.signed_on == datetime.date(2019, 7, 22)


def test_a_year_orders_as_its_first_day():
    year = ActivityFactory(start_date=datetime.date(2012, 1, 1), start_date_precision="year")
    march = ActivityFactory(start_date=datetime.date(2012, 3, 1), start_date_precision="month")
    day = ActivityFactory(start_date=datetime.date(2012, 1, 5))

    newest = list(Activity.objects.public().newest_first())

    assert newest == [march, day, year]


def test_admin_lists_show_dates_as_precisely_as_known_and_sort_by_start(admin_client):
    ActivityFactory(
        title="Older", start_date=datetime.date(2012, 3, 1), start_date_precision="month"
    )
    ActivityFactory(title="Newer", start_date=datetime.date(2015, 6, 9))
    url = reverse("admin:cooperation_activity_changelist")

    newest_first = admin_client.get(url)
    oldest_first = admin_client.get(url, {"o": "4"})  # The start date column, ascending.

    assertContains(newest_first, "March 2012")
    assertContains(newest_first, "9 June 2015")
    assert [row.title for row in newest_first.context["cl"].result_list] == ["Newer", "Older"]
    assert [row.title for row in oldest_first.context["cl"].result_list] == ["Older", "Newer"]
