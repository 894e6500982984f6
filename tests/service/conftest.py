"""Service fixtures: ``service`` (in process, per module), ``make_service`` (in process, with
chosen settings, per test) and ``server`` (a real uvicorn server with two worker processes,
per session)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from service_harness import Server, Service, running_service, serving


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with running_service(tmp_path_factory.mktemp("service"), benchmark_endpoints=True) as running:
        yield running


@pytest.fixture
def make_service(tmp_path: Path) -> Iterator[Callable[..., Service]]:
    """Build a service with particular settings (closed at the end of the test)."""
    numbers = itertools.count()
    with ExitStack() as stack:

        def make(**settings: Any) -> Service:
            directory = tmp_path / f"service-{next(numbers)}"
            directory.mkdir()
            return stack.enter_context(running_service(directory, **settings))

        yield make


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # Two worker processes, so every server test also covers serving from several processes.
    with serving(tmp_path_factory.mktemp("server"), "--workers", "2") as running:
        yield running
