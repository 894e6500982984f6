"""Property-based tests from the OpenAPI document: no 5xx, and answers match their schemas.

Bounded: three operations, eight examples each, in process (ASGI), so this stays well under
a minute. Needs schemathesis (a dev dependency); skipped without it.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

schemathesis = pytest.importorskip("schemathesis")

from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from alignment_engine.service import ServiceSettings, create_app  # noqa: E402
from alignment_engine.storage import Store  # noqa: E402

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
OPERATIONS = ("/v1/check", "/v1/optimise", "/v1/runs/{run_id}")


# The schema must exist when tests are collected; the app touches its database only when
# called, and the fixture below makes the folder, the token, and removes them afterwards.
_FOLDER = Path(tempfile.gettempdir()) / f"alignment-schemathesis-{uuid.uuid4().hex}"
APP = create_app(ServiceSettings(db_url=f"sqlite:///{_FOLDER / 'fuzz.db'}", time_limit_seconds=20))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).include(
    path_regex="^(" + "|".join(re.escape(path) for path in OPERATIONS) + ")$"
)


@pytest.fixture(scope="module")
def token() -> Iterator[str]:
    _FOLDER.mkdir()
    try:
        with Store.open(f"sqlite:///{_FOLDER / 'fuzz.db'}") as store:
            yield store.create_token("fuzzer", "admin")
    finally:
        APP.state.service.stop()
        shutil.rmtree(_FOLDER, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_no_server_errors_and_answers_match_the_schema(case: Any, token: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
