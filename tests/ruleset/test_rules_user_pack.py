"""A user adds a rule pack (Chinese names included) and gets a new finding without any Python."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from click.testing import CliRunner

from alignment_engine.checking import check_plan
from alignment_engine.cli import main
from alignment_engine.loading import plan_from_yaml

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme" / "plan.yaml"

USER_PACK = """\
kind: rules
id: 我的规则
name: 集团补充规则 Group extra rules
rules:
  # A derived fact of the user's own: departments whose KPI pushes a metric that, through
  # influences, moves revenue (built on the shipped 'reach' facts).
  - id: 影响营收
    description: 部门指标通过影响链作用于营收
    when:
      - {fact: kpi, as: 指标, where: "scope == 'department' and sign != 0"}
      - {fact: reach, as: 链, where: "source == 指标.metric and metric == 'revenue' and hops > 0"}
    derive:
      fact: 营收驱动
      key: [部门, 指标编号]
      fields: {部门: 指标.department, 指标编号: 指标.id, 路径: 链.path_up, 跳数: 链.hops}

  - id: 营收驱动未挂营收目标
    description: 推动营收的部门指标没有挂在 F1 上
    kind: alignment
    severity: low
    when:
      - {fact: 营收驱动, as: 驱动}
      - {none: kpi_link, where: "kpi == 驱动.指标编号 and objective == 'F1'"}
    finding:
      departments: ["{驱动.部门}"]
      kpis: ["{驱动.指标编号}"]
      objectives: [F1]
      rank: 驱动.跳数
      message: "{驱动.指标编号} 通过 {驱动.路径} 影响营收，但未挂在 F1（营收增长）上"
      suggestion: "为 {驱动.指标编号} 增加 objectives: {{F1: 0.2}}"
"""


def write_pack(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "我的规则.yaml"
    path.write_text(USER_PACK, encoding="utf-8")
    return folder


def test_user_pack_adds_findings_through_the_cli(tmp_path: Path) -> None:
    rules = write_pack(tmp_path / "规则")
    result = CliRunner().invoke(
        main, ["check", str(ACME), "--rules", str(rules), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    mine = [f for f in data["findings"] if f["rule"] == "营收驱动未挂营收目标"]
    assert [f["kpis"][0] for f in mine] == [
        "customer_service.first_contact_resolution",
        "customer_service.first_response_hours",
        "it.automation_rate",
        "it.system_availability",
        "marketing.brand_awareness",
        "marketing.promo_intensity",
        "marketing.qualified_leads",
        "production.oee",
        "production.on_time_delivery",
        "production.process_efficiency",
        "rnd.new_product_success_rate",
        "sales.customer_retention",
        "sales.market_share",
        "sales.new_customers",
    ]
    promo = next(f for f in mine if f["kpis"] == ["marketing.promo_intensity"])
    assert promo["message"] == (
        "marketing.promo_intensity 通过 promo_intensity -> discount_rate up -> market_share up "
        "-> revenue up 影响营收，但未挂在 F1（营收增长）上"
    )
    assert promo["suggestion"] == "为 marketing.promo_intensity 增加 objectives: {F1: 0.2}"
    assert promo["severity"] == "low"
    assert data["summary"]["packs"] == ["alignment", "conflicts", "我的规则"]
    # The shipped findings are all still there.
    assert data["summary"]["by_rule"]["trade-off"] == 2


def test_user_pack_through_the_library(tmp_path: Path) -> None:
    rules = write_pack(tmp_path / "rules")
    result = check_plan(plan_from_yaml(ACME), extra_packs=[rules])
    assert result.summary["by_rule"]["营收驱动未挂营收目标"] == 14


def test_user_pack_rule_tests_run_from_its_folder(tmp_path: Path) -> None:
    rules = write_pack(tmp_path / "rules")
    (rules / "tests").mkdir()
    (rules / "tests" / "驱动.yaml").write_text(
        textwrap.dedent(
            """\
            kind: rule-tests
            id: 驱动测试
            rules: [营收驱动未挂营收目标]
            cases:
              - name: 促销经折扣影响营收
                plan:
                  id: t
                  objectives: [{id: F1, perspective: financial}, {id: C1, perspective: customer}]
                  metrics: [{id: promo}, {id: revenue}]
                  influences: [{from: promo, to: revenue, sign: "+"}]
                  departments:
                    - {id: 市场部, kpis: [{id: 市场部.促销, metric: promo, target: 1, objectives: [C1]}]}
                expect:
                  - {rule: 营收驱动未挂营收目标, departments: [市场部], kpis: [市场部.促销],
                     message: "市场部.促销 通过 promo -> revenue up 影响营收，但未挂在 F1（营收增长）上"}
              - name: 已挂 F1 则不报
                plan:
                  id: t
                  objectives: [{id: F1, perspective: financial}]
                  metrics: [{id: promo}, {id: revenue}]
                  influences: [{from: promo, to: revenue, sign: "+"}]
                  departments:
                    - {id: 市场部, kpis: [{id: 市场部.促销, metric: promo, target: 1, objectives: [F1]}]}
                expect: []
            """
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["rules", "test", str(rules)])
    assert result.exit_code == 0, result.output
    assert "2 of 2 cases passed" in result.output
