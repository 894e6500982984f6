"""``/docs`` and ``/redoc`` work on a closed network: every script and style they load is
served by the service itself."""

from __future__ import annotations

import re

import pytest
from service_harness import Service


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_pages_load_nothing_from_elsewhere(service: Service, page: str) -> None:
    answer = service.client.get(page)
    assert answer.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', answer.text)
    assert sources, answer.text[:300]
    assert all(s.startswith("/") for s in sources), sources  # no CDN, no fonts from Google
    for source in sources:
        asset = service.client.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 1000 or source.endswith(".png")
    assert "/openapi.json" in answer.text
