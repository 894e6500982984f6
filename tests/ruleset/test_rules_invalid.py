"""A rule pack that cannot work fails when it is loaded, with file:line, the rule and a hint."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from alignment_engine.cli import main
from alignment_engine.errors import RuleError
from alignment_engine.rulepacks import load_pack

HEADER = "kind: rules\nid: mine\nrules:\n"

CASES = {
    "unknown-fact-type": (
        """
        - id: my-rule
          kind: conflict
          severity: low
          when:
            - {fact: kpis, as: k}
          finding: {message: "x"}
        """,
        "pack.yaml:8:10: rules[my-rule].when[0].fact: unknown fact type 'kpis' "
        "(did you mean 'kpi'?)",
    ),
    "unknown-field": (
        """
        - id: my-rule
          kind: conflict
          severity: low
          when:
            - {fact: kpi, as: k, where: "metrc == 'x'"}
          finding: {message: "{k.id}"}
        """,
        "pack.yaml:8:28: rules[my-rule].when[0].where: 'metrc' is neither a field of 'kpi' "
        "nor a matched fact (did you mean 'metric'?)",
    ),
    "unknown-field-of-alias": (
        """
        - id: my-rule
          kind: conflict
          severity: low
          when:
            - {fact: kpi, as: a}
            - {fact: kpi, as: b, where: "metric == a.metrics"}
          finding: {message: "{a.id}"}
        """,
        "pack.yaml:9:28: rules[my-rule].when[1].where: fact 'kpi' has no field 'metrics' "
        "(did you mean 'metric'?)",
    ),
    "bad-operator": (
        """
        - id: my-rule
          kind: conflict
          severity: low
          when:
            - {fact: kpi, as: k, where: "weight ** 2 > 0.5"}
          finding: {message: "{k.id}"}
        """,
        "pack.yaml:8:28: rules[my-rule].when[0].where: operator '**' is not supported "
        "(conditions may use + - * / and the comparisons == != < <= > >=)",
    ),
    "in-operator": (
        """
        - id: my-rule
          kind: conflict
          severity: low
          when:
            - {fact: kpi, as: k, where: "'sales' in departments"}
          finding: {message: "{k.id}"}
        """,
        "pack.yaml:8:28: rules[my-rule].when[0].where: operator 'in' is not supported "
        "(match one fact per member instead, e.g. goal_member)",
    ),
    "assignment-instead-of-comparison": (
        """
        - id: my-rule
          kind: conflict
          severity: low
          when:
            - {fact: kpi, as: k, where: "scope = 'department'"}
          finding: {message: "{k.id}"}
        """,
        "pack.yaml:8:28: rules[my-rule].when[0].where: not a valid expression: "
        "scope = 'department' (compare with '==', not '=')",
    ),
    "type-mismatch": (
        """
        - id: my-rule
          kind: conflict
          severity: low
          when:
            - {fact: kpi, as: k, where: "metric > 5"}
          finding: {message: "{k.id}"}
        """,
        "pack.yaml:8:28: rules[my-rule].when[0].where: cannot compare 'k.metric' (text) "
        "with 5 (a number)",
    ),
    "unknown-alias": (
        """
        - id: my-rule
          kind: conflict
          severity: low
          when:
            - {fact: kpi, as: a}
            - {fact: kpi, as: b, where: "metric == c.metric"}
          finding: {message: "{a.id}"}
        """,
        "pack.yaml:9:28: rules[my-rule].when[1].where: 'c' is not a fact matched before here "
        "(facts matched so far: a, b)",
    ),
    "join-with-or": (
        """
        - id: my-rule
          kind: conflict
          severity: low
          when:
            - {fact: kpi, as: a}
            - {fact: kpi, as: b, where: "metric == a.metric and (sign > 0 or weight > 0.5)"}
          finding: {message: "{a.id}"}
        """,
        "pack.yaml:9:28: rules[my-rule].when[1].where: the condition on 'b' compares with an "
        "earlier fact and also uses 'or'; durable_rules cannot evaluate that combination "
        "(split the 'or' into separate rules, one per alternative)",
    ),
    "bad-placeholder": (
        """
        - id: my-rule
          kind: conflict
          severity: low
          when:
            - {fact: kpi, as: k}
          finding: {message: "{k.id} of {k.departmnt}"}
        """,
        "pack.yaml:9:15: rules[my-rule].finding.message: in placeholder {k.departmnt}: fact "
        "'kpi' has no field 'departmnt' (did you mean 'department'?)",
    ),
    "derive-a-plan-fact": (
        """
        - id: my-rule
          when:
            - {fact: metric, as: m}
          derive: {fact: kpi, fields: {metric: m.id}}
        """,
        "pack.yaml:7:14: rules[my-rule].derive.fact: 'kpi' facts come from the plan; rules "
        "cannot derive them (choose a new fact type name)",
    ),
    "duplicate-rule-id": (
        """
        - id: my-rule
          kind: conflict
          severity: low
          when: [{fact: kpi}]
          finding: {message: "{kpi.id}"}
        - id: my-rule
          kind: conflict
          severity: low
          when: [{fact: metric}]
          finding: {message: "{metric.id}"}
        """,
        "pack.yaml:9:5: rules[my-rule].id: duplicate rule id 'my-rule' (first at rules[0])",
    ),
    "finding-without-severity": (
        """
        - id: my-rule
          kind: conflict
          when: [{fact: kpi}]
          finding: {message: "{kpi.id}"}
        """,
        "pack.yaml:4:5: rules[my-rule]: a rule with a finding needs 'kind:' and 'severity:'",
    ),
    "unknown-severity": (
        """
        - id: my-rule
          kind: conflict
          severity: severe
          when: [{fact: kpi}]
          finding: {message: "{kpi.id}"}
        """,
        "pack.yaml:6:5: rules[my-rule].severity: 'severe' is not allowed here; expected "
        "'low', 'medium', 'high' or 'critical'",
    ),
    "grouped-parties-not-groups": (
        """
        - id: my-rule
          kind: conflict
          severity: low
          when:
            - {fact: kpi, as: a}
            - {fact: kpi, as: b, where: "metric == a.metric"}
          finding: {message: "{a.metric}", parties: [a, b]}
        """,
        "pack.yaml:10:48: rules[my-rule].finding.parties[0]: 'a' is a kpi fact; parties are "
        "kpi_group facts (parties are the aliases of two 'fact: kpi_group' conditions)\n"
        "pack.yaml:10:51: rules[my-rule].finding.parties[1]: 'b' is a kpi fact; parties are "
        "kpi_group facts (parties are the aliases of two 'fact: kpi_group' conditions)",
    ),
    "grouped-parties-unknown": (
        """
        - id: my-rule
          kind: conflict
          severity: low
          when:
            - {fact: kpi_group, as: up}
            - {fact: kpi_group, as: down, where: "metric == up.metric"}
          finding: {message: "{up.metric}", parties: [up, dwn]}
        """,
        "pack.yaml:10:53: rules[my-rule].finding.parties[1]: 'dwn' is not a matched fact "
        "(did you mean 'down'?)",
    ),
    "grouped-parties-one-side": (
        """
        - id: my-rule
          kind: conflict
          severity: low
          when:
            - {fact: kpi_group, as: a}
            - {fact: kpi_group, as: b, where: "metric == a.metric"}
          finding: {message: "{a.metric}", parties: [a]}
        """,
        "pack.yaml:10:38: rules[my-rule].finding.parties: parties names two matched facts, "
        "one per side",
    ),
    "grouped-by-a-list": (
        """
        - id: my-rule
          kind: conflict
          severity: low
          when:
            - {fact: kpi_group, as: a}
            - {fact: kpi_group, as: b, where: "metric == a.metric"}
          finding: {message: "{a.metric}", group_by: [a.kpis]}
        """,
        "pack.yaml:10:49: rules[my-rule].finding.group_by[0]: group by numbers, text or true/false",
    ),
    "grouped-count-not-a-number": (
        """
        - id: my-rule
          kind: conflict
          severity: low
          when:
            - {fact: kpi_group, as: a}
            - {fact: kpi_group, as: b, where: "metric == a.metric"}
          finding: {message: "{a.metric}", group_by: [a.metric], count: a.metric}
        """,
        "pack.yaml:10:60: rules[my-rule].finding.count: count must be a number",
    ),
    "brief-of-text": (
        """
        - id: my-rule
          kind: conflict
          severity: low
          when:
            - {fact: kpi_group, as: a}
          finding: {message: "{brief(a.metric)}"}
        """,
        "pack.yaml:9:15: rules[my-rule].finding.message: in placeholder {brief(a.metric)}: "
        "brief() takes a list and optionally what one item is",
    ),
    "union-of-text": (
        """
        - id: my-rule
          kind: conflict
          severity: low
          when:
            - {fact: kpi_group, as: a}
          finding: {message: "{brief(union(a.kpis, a.metric))}"}
        """,
        "pack.yaml:9:15: rules[my-rule].finding.message: in placeholder "
        "{brief(union(a.kpis, a.metric))}: union() takes two lists",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_invalid_pack_fails_at_load_with_a_pinned_message(tmp_path: Path, name: str) -> None:
    rules, expected = CASES[name]
    path = tmp_path / "pack.yaml"
    path.write_text(
        HEADER + textwrap.indent(textwrap.dedent(rules).lstrip("\n"), "  "), encoding="utf-8"
    )
    with pytest.raises(RuleError) as caught:
        load_pack(path)
    assert str(caught.value).replace(f"{tmp_path}/", "") == expected


def test_validate_reports_rule_errors_too(tmp_path: Path) -> None:
    rules, expected = CASES["unknown-fact-type"]
    path = tmp_path / "pack.yaml"
    path.write_text(
        HEADER + textwrap.indent(textwrap.dedent(rules).lstrip("\n"), "  "), encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert expected in result.stderr.replace(f"{tmp_path}/", "")
