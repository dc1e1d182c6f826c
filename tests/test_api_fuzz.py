"""
A schema-driven fuzz of the API (schemathesis): requests generated from its OpenAPI
schema, valid and not, to every operation, in-process through the WSGI application, on
the seed data and a few generated records. No answer may be a server error, and every
answer must be one the schema documents, in the shape it documents.
"""

import io

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .test_seed import load_seed

pytestmark = pytest.mark.django_db

#: Examples per operation, valid and invalid: a bounded run (under a minute), not a search.
EXAMPLES = 15


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def connection_kept():
    """
    Keep the test's database connection across requests, as Django's test client does: a
    WSGI handler closes it after each one, and with it the transaction that holds the data.
    """
    for signal in [request_started, request_finished]:
        signal.disconnect(close_old_connections)
    yield
    for signal in [request_started, request_finished]:
        signal.connect(close_old_connections)


def test_api_answers_every_generated_request_as_its_schema_says(connection_kept):
    load_seed()
    call_command("generate_demo", "--activities=40", "--force", stdout=io.StringIO())
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]

    for operation in operations:

        @given(case=st.one_of(operation.as_strategy(mode) for mode in GenerationMode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers_as_documented(case):
            case.call_and_validate(checks=CHECKS)

        answers_as_documented()

    assert len(operations) == 13  # six lists, six records, and the root
