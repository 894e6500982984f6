"""Inline plans and policies are validated once per distinct content: a repeated plan (in any key
order) reaches the engine as the same validated object, so what is derived from it is reused;
a plan that does not validate is reported exactly as before."""

from __future__ import annotations

import json

from service_harness import Service, assert_error
from service_samples import score_body

from alignment_engine.model import Plan
from alignment_engine.service.document_cache import DocumentCache, documents


def test_the_same_content_in_another_key_order_is_one_validated_model() -> None:
    cache = DocumentCache(size=2)
    plan = score_body()["plan"]
    reordered = json.loads(json.dumps(dict(reversed(list(plan.items())))))
    first = cache.model("plan", plan)
    assert isinstance(first, Plan)
    assert cache.model("plan", reordered) is first
    assert (cache.hits, cache.misses) == (1, 1)
    assert cache.model("plan", {**plan, "id": "not the same"}) is not first
    assert cache.model("plan", {"kind": "plan"}) is None  # invalid: left to request validation


def test_repeated_calls_reuse_the_validated_plan_and_answer_the_same(service: Service) -> None:
    body = score_body()
    before = documents.hits
    answers = [service.post("/v1/score", body, role="hr") for _ in range(3)]
    assert all(a.status_code == 200 for a in answers), answers[0].text
    assert documents.hits - before >= 4  # plan and policy, on the second and third calls
    payouts = [[e["payout"] for e in a.json()["employees"]] for a in answers]
    assert payouts[0] == payouts[1] == payouts[2]


def test_an_invalid_inline_plan_is_reported_with_its_path(service: Service) -> None:
    body = score_body()
    body["plan"]["departments"][0]["kpis"][0]["weight"] = "heavy"
    error = assert_error(service.post("/v1/score", body, role="hr"), 422)
    assert "plan" in json.dumps(error["details"]) and "weight" in json.dumps(error["details"])
