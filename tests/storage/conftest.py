"""Storage fixtures: an open store on each backend (db_url comes from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from alignment_engine.storage import Store


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store.open(db_url) as opened:
        yield opened
