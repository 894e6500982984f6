"""A rule's finding in the reader's language: ``translations: {zh-CN: {message, suggestion}}``
in the pack, shown by the CLI and the report in Chinese while JSON keeps the English."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from alignment_engine import Plan
from alignment_engine.checking import check_plan
from alignment_engine.cli import main
from alignment_engine.errors import RuleError
from alignment_engine.loading import plan_from_yaml, policy_from_yaml
from alignment_engine.rulepacks import load_pack
from alignment_engine.ruleset.expressions import Scope, evaluate, localise, parse_expression
from alignment_engine.ruleset.templates import parse_template
from alignment_engine.storage import Store

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme" / "plan.yaml"
POLICY = ROOT / "policies" / "annual-bonus-2026.yaml"
PLANTED = ROOT / "tests" / "data" / "checks"

# English words of the shipped messages that a Chinese text must not contain (ids such as
# sales.revenue and policy keys are the user's and stay as written).
ENGLISH = re.compile(r"\b(is|are|asked|while|which|must|works?|against|serves|target of|short)\b")


def _acme_with_held_dso() -> Plan:
    """Sales holds days_sales_outstanding (maintain) while finance lowers it."""
    data = yaml.safe_load(ACME.read_text(encoding="utf-8"))
    sales = next(d for d in data["departments"] if d["id"] == "sales")
    dso = next(k for k in sales["kpis"] if k["id"] == "sales.days_sales_outstanding")
    dso.update(direction="maintain", threshold=70, target=75, maximum=80)
    return Plan.model_validate(data)


def _plans() -> list[tuple[Plan, Any]]:
    return [
        (plan_from_yaml(ACME), policy_from_yaml(POLICY)),
        (plan_from_yaml(PLANTED / "planted-plan.yaml"), None),
        (
            plan_from_yaml(PLANTED / "planted-plan.yaml"),
            policy_from_yaml(PLANTED / "department-heavy.yaml"),
        ),
        (_acme_with_held_dso(), None),
    ]


def test_every_shipped_finding_rule_speaks_chinese() -> None:
    for pack in ("alignment", "conflicts"):
        for rule in load_pack(ROOT / "rules" / f"{pack}.yaml").pack.rules:
            if rule.finding is not None:
                assert "zh-CN" in rule.finding.translations, rule.id


def test_chinese_findings_carry_chinese_texts_and_keep_the_english() -> None:
    rules_seen: set[str] = set()
    for plan, policy in _plans():
        english = check_plan(plan, policy)
        chinese = check_plan(plan, policy, language="zh-CN")
        # The same findings, the same English texts: only the translation is added.
        assert [
            {k: v for k, v in f.to_dict().items() if k != "translation"} for f in chinese.findings
        ] == [f.to_dict() for f in english.findings]
        assert all(f.translation is None for f in english.findings)
        for finding in chinese.findings:
            rules_seen.add(finding.rule)
            assert finding.translation is not None, finding.rule
            assert finding.translation.language == "zh-CN"
            message, suggestion = finding.shown("zh-CN")
            assert message != finding.message and re.search(r"[\u4e00-\u9fff]", message)
            assert re.search(r"[\u4e00-\u9fff]", suggestion), finding.rule
            assert not ENGLISH.search(message), (finding.rule, message)
            assert not ENGLISH.search(suggestion), (finding.rule, suggestion)
            assert "  " not in message and message == message.strip()
            assert finding.shown("en") == (finding.message, finding.suggestion)
    # Every shipped finding rule was rendered in Chinese at least once.
    assert rules_seen >= {
        "unlinked-kpi",
        "uncovered-objective",
        "weights-not-normalised",
        "missing-target",
        "levels-out-of-order",
        "horizon-mismatch",
        "opposing-targets",
        "trade-off",
        "resource-oversubscription",
        "cascade-gap",
        "incentive-misalignment",
    }


def test_a_held_metric_reads_as_held_in_chinese() -> None:
    found = check_plan(_acme_with_held_dso(), language="zh-CN")
    opposing = [f for f in found.findings if f.rule == "opposing-targets"]
    assert len(opposing) == 1 and opposing[0].translation is not None
    assert opposing[0].translation.message == (
        "days_sales_outstanding：finance 被要求降低它（finance.days_sales_outstanding），"
        "而 sales 被要求保持它（sales.days_sales_outstanding）"
    )
    assert "is asked to hold it" in opposing[0].message


def test_chains_verbs_and_lists_are_written_in_the_language() -> None:
    found = check_plan(plan_from_yaml(ACME), language="zh-CN")
    trade_offs = {
        f.translation.message for f in found.findings if f.translation and f.rule == "trade-off"
    }
    assert (
        "production 降低 unit_cost → defect_rate 上升，而 quality 必须降低它"
        "（production.unit_cost 与 quality.defect_rate 相互抵触）"
    ) in trade_offs
    scope = Scope({"a": ("kpi_group", {"kpis": "list", "verb": "text"})}, values=True)
    env = {"a": {"kpis": [f"k{i}" for i in range(8)], "verb": "lower"}}
    long_list = localise(parse_expression("brief(a.kpis, '个 KPI')", scope), "zh-CN")
    assert evaluate(long_list, env) == "8 个 KPI（k0、k1、k2 等）"
    assert evaluate(localise(parse_expression("join(a.kpis)", scope), "zh-CN"), env).startswith(
        "k0、k1、k2"
    )
    verb = parse_template("{a.verb}{'' if a.verb == 'lower' else '?'}", scope, "zh-CN")
    # Comparisons read the engine's values as they are; only what is shown is translated.
    assert verb.render(env) == "降低"
    assert parse_template("{a.verb}", scope).render(env) == "lower"


def _pack(tmp_path: Path, translations: str) -> Path:
    text = textwrap.dedent(
        """\
        kind: rules
        id: mine
        rules:
          - id: my-rule
            kind: alignment
            severity: low
            when:
              - {fact: kpi, as: k, where: "objective_count == 0"}
            finding:
              kpis: ["{k.id}"]
              message: "{k.id} is lonely"
              suggestion: "link {k.id}"
        """
    ) + textwrap.indent(textwrap.dedent(translations), "      ")
    path = tmp_path / "pack.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_translation_in_an_unknown_language_is_refused_naming_the_key(tmp_path: Path) -> None:
    path = _pack(tmp_path, "translations:\n  fr: {message: '{k.id} est seul'}\n")
    with pytest.raises(RuleError) as caught:
        load_pack(path)
    text = str(caught.value).replace(f"{tmp_path}/", "")
    assert text == (
        "pack.yaml:13:7: rules[my-rule].finding.translations: "
        "no translations in 'fr': languages are zh-CN"
    )


def test_a_bad_placeholder_in_a_translation_fails_at_load_with_its_path(tmp_path: Path) -> None:
    path = _pack(tmp_path, "translations:\n  zh-CN: {message: '{k.idd} 没有目标'}\n")
    with pytest.raises(RuleError) as caught:
        load_pack(path)
    text = str(caught.value).replace(f"{tmp_path}/", "")
    assert "rules[my-rule].finding.translations.zh-CN.message" in text
    assert "k.idd" in text and "did you mean" in text.lower()


def test_a_translation_without_a_suggestion_shows_the_english_one(tmp_path: Path) -> None:
    pack = load_pack(_pack(tmp_path, "translations:\n  zh-CN: {message: '{k.id} 孤立无援'}\n"))
    data = yaml.safe_load(ACME.read_text(encoding="utf-8"))
    data["departments"][0]["kpis"][0]["objectives"] = {}
    plan = Plan.model_validate(data)
    kpi = data["departments"][0]["kpis"][0]["id"]
    found = [
        f
        for f in check_plan(plan, extra_packs=[pack], language="zh-CN").findings
        if f.rule == "my-rule"
    ]
    assert [f.shown("zh-CN") for f in found] == [(f"{kpi} 孤立无援", f"link {kpi}")]


def test_check_in_chinese_prints_chinese_findings_and_records_the_language(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    runner = CliRunner()
    table = runner.invoke(
        main, ["--lang", "zh-CN", "check", str(ACME), "--db", db], env={"COLUMNS": "200"}
    )
    assert table.exit_code == 0, table.output
    assert "被要求提高 days_sales_outstanding" in table.output
    assert "is asked to raise" not in table.output
    as_json = runner.invoke(
        main, ["--lang", "zh-CN", "check", str(ACME), "--format", "json", "--db", db]
    )
    findings = json.loads(as_json.output)["findings"]
    assert all(f["message"].isascii() and f["translation"]["language"] == "zh-CN" for f in findings)
    english = runner.invoke(main, ["check", str(ACME), "--format", "json", "--db", db])
    assert all("translation" not in f for f in json.loads(english.output)["findings"])
    with Store.open(db) as store:
        runs = store.list_runs()
        assert sorted(str(r.options.get("language", "en")) for r in runs) == ["en", "zh-CN"]
        chinese = next(r for r in runs if r.options.get("language") == "zh-CN")
    replay = runner.invoke(main, ["runs", "replay", chinese.id, "--db", db])
    assert replay.exit_code == 0, replay.output
    assert "identical" in replay.output


def test_every_shipped_rule_describes_itself_in_chinese_and_the_description_is_optional() -> None:
    from alignment_engine.rulepacks import shipped_packs
    from alignment_engine.ruleset.schema import FindingText

    for loaded in shipped_packs():
        for rule in loaded.pack.rules:
            if rule.finding is not None:
                assert rule.finding.translations["zh-CN"].description, rule.id
    # A pack written before descriptions could be translated still loads.
    assert FindingText(message="某条消息").description == ""
