import datetime
import threading
import time

import pytest
from django.db import connection
from django.http import QueryDict

from cooperation import exports, iati, iati_sql, parallel

from .test_exports import NASTY_CELLS, canonical_elements, varied  # noqa: F401 A fixture.


def test_results_come_in_the_order_of_the_jobs_whichever_ends_first():
    threads = []

    def job(number):
        def run():
            threads.append(threading.get_ident())
            time.sleep(0.02 * (number % 2))  # The even ones, in one thread, end first.
            return number

        return run

    assert list(parallel.in_order("default", [job(n) for n in range(7)], width=2)) == [*range(7)]
    assert len(set(threads)) == 2
    assert threading.get_ident() not in threads


def test_an_error_is_raised_at_its_place():
    def fails():
        raise ValueError("chunk 2")

    results = parallel.in_order("default", [lambda: 0, lambda: 1, fails, lambda: 3], width=2)

    assert next(results) == 0
    assert next(results) == 1
    with pytest.raises(ValueError, match="chunk 2"):
        next(results)


def test_a_reader_that_stops_early_stops_the_threads():
    started = []

    def job(number):
        def run():
            started.append(number)
            return number

        return run

    before = threading.active_count()
    results = parallel.in_order("default", [job(n) for n in range(50)], width=2)
    assert [next(results), next(results)] == [0, 1]
    results.close()

    assert threading.active_count() == before
    assert len(started) < 10  # Each thread runs at most a job ahead of the reader.


def test_one_connection_runs_the_jobs_in_the_readers_thread():
    threads = []

    def job():
        threads.append(threading.get_ident())
        return len(threads)

    assert list(parallel.in_order("default", [job, job, job], width=1)) == [1, 2, 3]
    assert set(threads) == {threading.get_ident()}


@pytest.mark.django_db
def test_chunks_are_not_read_in_parallel_inside_a_transaction():
    # Other connections would not see what the transaction has written.
    assert connection.in_atomic_block
    assert not parallel.usable("default")


# Other connections read committed rows only; serialized_rollback brings back the rows that
# migrations wrote (countries) after a flush.
committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@committed
def test_chunks_are_read_in_parallel_on_postgresql_outside_a_transaction():
    assert parallel.usable("default") == (connection.vendor == "postgresql")


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="Only PostgreSQL reads chunks in parallel."
)


@pytest.fixture
def chunks_read(monkeypatch):
    """The number of jobs given to each call of parallel.in_order()."""
    calls, in_order = [], parallel.in_order

    def counted(alias, jobs, width=None):
        calls.append(len(jobs))
        return in_order(alias, jobs, width)

    monkeypatch.setattr(parallel, "in_order", counted)
    return calls


@postgresql_only
@committed
@pytest.mark.parametrize("hxl", [False, True])
def test_csv_in_parallel_chunks_is_the_csv_of_one_statement(varied, monkeypatch, chunks_read, hxl):  # noqa: F811
    for number, text in enumerate(NASTY_CELLS):
        varied[number].title = text
        varied[number].save()
    table = exports.TABLES["activity-list"]
    rows = table.filterset(None).qs
    assert rows.count() == 12

    def written(limit):
        context = exports.Context("http://testserver", limit, "http://testserver/a.csv")
        pieces = exports.csv_lines(table, table.filterset(None).qs, context, hxl)
        return b"".join(p.encode() if isinstance(p, str) else p for p in pieces)

    monkeypatch.setattr(exports, "COPY_CHUNK", 5)  # Three chunks, the limit within one.
    in_parallel = [written(limit) for limit in (None, 12, 7)]
    monkeypatch.setattr(parallel, "WIDTH", 1)
    in_one = [written(limit) for limit in (None, 12, 7)]

    assert chunks_read == [3, 3, 2]
    assert in_parallel == in_one
    assert [content.count(b"This export stops at") for content in in_one] == [0, 0, 1]
    assert b"=SUM" in in_one[0]


@postgresql_only
@committed
@pytest.mark.parametrize("limit", [None, 5])
def test_iati_xml_in_parallel_chunks_is_what_python_builds(varied, monkeypatch, chunks_read, limit):  # noqa: F811
    table = exports.TABLES["activity-list"]
    context = exports.Context("http://testserver", limit, "http://testserver/exports/x")
    today = datetime.date(2026, 1, 15)
    monkeypatch.setattr(iati_sql, "CHUNK", 2)
    found = []
    for writer in [
        iati_sql.Written(table.filterset(QueryDict()).qs, context, today),
        iati.Built(table, table.filterset(QueryDict()).qs, context, today),
    ]:
        found.append((canonical_elements(writer), writer.left_out, writer.truncated))

    assert chunks_read == [3 if limit else 6]
    assert found[0] == found[1]
    assert len(found[0][0]) + found[0][1] == (limit or 12)
    assert found[0][2] == (limit is not None)
