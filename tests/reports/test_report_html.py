"""report.html from hand-made results: complete, escaped, self-contained and deterministic."""

from __future__ import annotations

import html
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from report_samples import acme_plan, sample_check, sample_optimise, sample_score

from alignment_engine.loading import plan_from_yaml
from alignment_engine.model import Plan
from alignment_engine.reports import as_result_dict, render_report, write_report
from alignment_engine.reports.conflict_graph import graph_findings
from alignment_engine.reports.heatmap import rag

MINIMAL = Path(__file__).resolve().parents[1] / "data" / "valid" / "minimal-plan.yaml"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return acme_plan()


@pytest.fixture(scope="module")
def page(plan: Plan) -> str:
    return render_report(
        plan=plan,
        check=sample_check(),
        score=sample_score(plan),
        optimise=sample_optimise(plan),
        compare={
            "findings": {"added": [], "resolved": [sample_check()["findings"][1]], "changed": []},
            "scores": [
                {
                    "department": "sales",
                    "before": 0.8,
                    "after": 0.9,
                    "delta": 0.1,
                    "payout_factor_before": 0.8,
                    "payout_factor_after": 0.9,
                    "payout_factor_delta": 0.1,
                }
            ],
            "payouts": [{"department": "sales", "before": 10.0, "after": 12.0, "delta": 2.0}],
            "allocations": [],
        },
        sweep=[
            {"label": "a=1", "value": 1, "findings": 3},
            {"label": "a=2", "value": 2, "findings": 4},
        ],
    )


def count(page: str, pattern: str) -> int:
    return len(re.findall(pattern, page))


def test_every_chart_is_there(page: str, plan: Plan) -> None:
    assert count(page, r"<svg ") == 5
    for anchor in (
        "summary",
        "strategy-map",
        "conflicts",
        "results",
        "payouts",
        "allocations",
        "comparison",
        "sweep",
    ):
        assert f'<section id="{anchor}"' in page


def test_the_strategy_map_has_every_objective_and_drives_link(page: str, plan: Plan) -> None:
    assert count(page, r'<g class="objective" ') == len(plan.objectives)
    assert count(page, r'<path class="drive" ') == sum(len(o.drives) for o in plan.objectives)
    for perspective in ("financial", "customer", "internal_process", "learning_growth"):
        assert f"band-{perspective}" in page
    # the KPIs serving an objective are listed in its box
    assert 'data-id="C1" data-kpis="' in page
    assert "Market share 市场占有率 (sales)" in page


def test_the_conflict_graph_has_a_node_per_department_and_an_edge_per_finding(
    page: str, plan: Plan
) -> None:
    findings = sample_check()["findings"]
    assert count(page, r'<g class="department-node" ') == len(plan.departments)
    assert count(page, r'<g class="finding-edge ') == len(graph_findings(plan, findings)) == 6
    assert count(page, r'data-severity="critical"') == 1
    assert count(page, r'data-severity="medium"') == 3


def test_the_heat_map_has_a_cell_per_kpi_coloured_by_result(page: str, plan: Plan) -> None:
    assert count(page, r'class="rag-cell ') == sum(1 for _ in plan.kpis())
    colours = re.findall(r'data-rag="(\w+)"', page)
    assert set(colours) == {"green", "amber", "red"}


def test_payouts_and_allocations(page: str, plan: Plan) -> None:
    assert count(page, r'<g class="payout-box" ') == len(plan.departments)
    pairs = sum(len(r.allocation) for r in plan.resources)
    assert count(page, r'class="alloc-bar" data-kind="current"') == pairs
    assert count(page, r'class="alloc-bar" data-kind="proposed"') == pairs


def test_text_is_escaped(page: str) -> None:
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; 知识共享" in page


def test_the_page_is_self_contained_and_prints(page: str) -> None:
    assert "<script" not in page
    assert not re.search(r"(src|href)=", page)
    assert "@import" not in page
    urls = set(re.findall(r"url\(([^)]*)\)", page))
    assert urls == {"#sm-arrow"}
    assert set(re.findall(r"https?://[^\"' )]+", page)) == {"http://www.w3.org/2000/svg"}
    assert "@media print" in page
    assert '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei"' in page
    assert '<meta charset="utf-8">' in page
    assert "艾克美" in page


def test_rendering_is_deterministic(plan: Plan) -> None:
    def render() -> str:
        return render_report(
            plan=plan,
            check=sample_check(),
            score=sample_score(plan),
            optimise=sample_optimise(plan),
        )

    first = render()
    assert render() == first
    assert not re.search(r"20\d\d-\d\d-\d\dT", first)  # no timestamp unless passed in
    stamped = render_report(plan=plan, generated_at="2026-10-05 09:00")
    assert "generated 2026-10-05 09:00" in stamped


def test_a_plan_alone_renders_the_map_and_todays_allocation() -> None:
    plan = plan_from_yaml(MINIMAL)
    page = render_report(plan=plan)
    assert count(page, r"<svg ") == 2
    assert count(page, r'<g class="objective" ') == 2
    assert 'data-kind="demand"' in page
    assert 'id="conflicts"' not in page and 'id="results"' not in page


def test_without_employees_departments_show_payout_factor_bars(plan: Plan) -> None:
    score = sample_score(plan, employees_per_department=0)
    page = render_report(plan=plan, score=score)
    assert count(page, r'class="payout-bar"') == len(plan.departments)


def test_an_infeasible_optimisation_is_explained(plan: Plan) -> None:
    page = render_report(
        plan=plan,
        optimise={
            "status": "infeasible",
            "objective": None,
            "allocations": [],
            "predicted": [],
            "message": "budget: minimum amounts exceed capacity",
        },
    )
    assert "budget: minimum amounts exceed capacity" in page


def test_predicted_changes_are_green_when_the_kpi_improves_whichever_way_is_better() -> None:
    plan = acme_plan()
    lower = "marketing.customer_acquisition_cost"  # direction: decrease
    page = render_report(
        plan=plan,
        optimise={
            "status": "optimal",
            "objective": 1.0,
            "allocations": [],
            "predicted": [
                {"kpi": lower, "current": 40.0, "proposed": 38.0},  # cheaper: better
                {"kpi": "sales.market_share", "current": 0.2, "proposed": 0.19},  # worse
            ],
        },
    )
    names = {kpi.id: kpi.name or kpi.id for _, kpi in plan.kpis()}  # the table shows names
    rows = {
        kpi: re.search(
            rf"{re.escape(html.escape(names[kpi]))}</td>.*?class=\"(delta-\w+)\"", page, re.S
        )
        for kpi in (lower, "sales.market_share")
    }
    assert {kpi: m.group(1) if m else None for kpi, m in rows.items()} == {
        lower: "delta-up",
        "sales.market_share": "delta-down",
    }


class ScoreLike:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.asked: list[str] = []

    def to_dict(self, explanations: str = "full") -> dict[str, Any]:
        self.asked.append(explanations)
        return self.data


def test_engine_results_are_taken_through_to_dict(plan: Plan) -> None:
    score = ScoreLike(sample_score(plan))
    assert as_result_dict(score) == score.data
    assert score.asked == ["none"]
    assert as_result_dict(None) is None


def test_write_report_is_atomic_and_readable(tmp_path: Path, plan: Plan) -> None:
    target = tmp_path / "deep" / "report.html"
    written = write_report(target, plan=plan, check=sample_check(), title="报告 <Q3>")
    assert written == target
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.html"]
    text = target.read_text(encoding="utf-8")
    assert "<title>报告 &lt;Q3&gt;</title>" in text
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    write_report(target, plan=plan)  # replaces the old page
    assert 'id="conflicts"' not in target.read_text(encoding="utf-8")


def test_a_failed_write_leaves_nothing_behind(
    tmp_path: Path, plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Path, target: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_report(tmp_path / "report.html", plan=plan)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"payout_factor": 1.2, "attainment": 1.1}, "green"),
        ({"payout_factor": 1.0}, "green"),
        ({"payout_factor": 0.6, "attainment": 0.97}, "amber"),
        ({"payout_factor": 0.0, "attainment": 0.8}, "red"),
        ({"payout_factor": None, "attainment": 1.01}, "green"),
        ({"payout_factor": None, "attainment": 0.92}, "amber"),
        ({"payout_factor": None, "attainment": 0.5}, "red"),
        ({"payout_factor": None, "attainment": None}, "grey"),
        (None, "grey"),
    ],
)
def test_rag_colours(result: dict[str, Any] | None, expected: str) -> None:
    assert rag(result) == expected


def test_an_empty_plan_and_empty_results_render() -> None:
    page = render_report(
        plan=Plan(id="empty"),
        check={"findings": []},
        score={"kpis": [], "departments": [], "employees": [], "totals": {}},
        optimise={"status": "optimal", "objective": None, "allocations": [], "predicted": []},
    )
    assert count(page, r"<svg ") == 5


def svg_blocks(page: str) -> list[str]:
    return re.findall(r"<svg .*?</svg>", page, re.S)


def test_every_chart_is_well_formed_xml(page: str) -> None:
    import xml.etree.ElementTree as ElementTree

    blocks = svg_blocks(page)
    assert len(blocks) == 5
    for block in blocks:
        ElementTree.fromstring(block)


NAMES = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)


@settings(max_examples=40, deadline=None)
@given(name=NAMES, message=NAMES, rule=NAMES)
@example(name="Sales \ufffe", message="a\uffff\x01b", rule="r")  # not allowed in XML at all
def test_any_text_stays_escaped(name: str, message: str, rule: str) -> None:
    import xml.etree.ElementTree as ElementTree

    plan = plan_from_yaml(MINIMAL)
    plan = plan.model_copy(
        update={
            "departments": [
                plan.departments[0].model_copy(update={"name": name}),
                plan.departments[1],
            ]
        }
    )
    check = {
        "findings": [
            {
                "rule": rule,
                "kind": "conflict",
                "severity": "high",
                "departments": ["sales", "finance"],
                "kpis": [],
                "objectives": [],
                "resources": [],
                "message": message,
                "suggestion": message,
            }
        ]
    }
    page = render_report(plan=plan, check=check, title=name)
    assert "<script" not in page.lower().replace("&lt;script", "")
    for block in svg_blocks(page):
        ElementTree.fromstring(block)


def _large_plan(departments: int) -> Plan:
    return Plan.model_validate(
        {
            "id": "large",
            "metrics": [{"id": "m"}],
            "departments": [
                {"id": f"d{i:04d}", "kpis": [{"id": f"d{i:04d}.k", "metric": "m", "target": 1}]}
                for i in range(departments)
            ],
        }
    )


def test_a_large_plan_gets_a_summary_graph_and_capped_tables() -> None:
    plan = _large_plan(2_000)
    findings = [
        {
            "rule": "trade-off",
            "kind": "conflict",
            "severity": "high" if i % 7 == 0 else "medium",
            "departments": [f"d{(i * 13 + j) % 2_000:04d}" for j in range(40)],
            "kpis": [f"d{(i * 13 + j) % 2_000:04d}.k" for j in range(40)],
            "message": f"finding {i}",
            "suggestion": "",
        }
        for i in range(5_000)
    ]
    page = render_report(plan=plan, check={"findings": findings, "summary": {}})
    assert len(page) < 3_000_000
    assert 'class="chart conflict-graph summary"' in page
    assert 0 < count(page, r'<g class="pair-edge ') <= 120
    assert count(page, r'<g class="department-node"') == 30
    assert count(page, r'<g class="finding-edge ') == 0
    assert "The 200 most severe and broadest of 5,000 findings" in page
    # the shared counts on the edges are those of the findings naming both departments
    first = re.search(r'data-departments="(\S+) (\S+)" data-findings="(\d+)"', page)
    assert first is not None
    a, b, shared = first.group(1), first.group(2), int(first.group(3))
    assert shared == sum(1 for f in findings if a in f["departments"] and b in f["departments"])


def test_a_small_plan_keeps_one_edge_per_finding(page: str) -> None:
    assert "conflict-graph summary" not in page


def test_the_payout_chart_shows_the_departments_paying_the_most_and_counts_the_rest() -> None:
    """At thousands of departments the chart keeps 40 rows (the largest totals) and one line
    for the rest, so the page stays readable and small."""
    from alignment_engine.reports.payouts import MAX_ROWS, payout_chart

    departments = [{"id": f"d{i:03d}", "kpis": []} for i in range(120)]
    plan = Plan.model_validate({"kind": "plan", "id": "wide", "departments": departments})
    employees = [
        {"employee_id": f"E{i}-{j}", "department": f"d{i:03d}", "payout": float(i * 10 + j)}
        for i in range(120)
        for j in range(3)
    ]
    svg = payout_chart(plan, {"employees": employees, "departments": []}, "EUR")
    shown = re.findall(r'data-department="(d\d+)"', svg)
    assert len(shown) == MAX_ROWS
    assert shown == [f"d{i:03d}" for i in range(120 - MAX_ROWS, 120)]  # plan order, largest
    assert "80 more departments (the 40 paying the most are shown): 240 employees" in svg


def test_tables_and_charts_escape_text_alike() -> None:
    """The templates escape as the hand-made charts do (quotes included), so a name reads the
    same in a table as in the SVG beside it, and no text passes unescaped."""
    check = {
        "findings": [
            {
                "rule": "opposing-targets",
                "kind": "conflict",
                "severity": "high",
                "departments": ["sales", "finance"],
                "kpis": [],
                "message": "a \"b\" 'c' <d> & e",
                "suggestion": "",
            }
        ]
    }
    page = render_report(plan=plan_from_yaml(MINIMAL), check=check, title="<t>")
    assert "a &quot;b&quot; &#x27;c&#x27; &lt;d&gt; &amp; e" in page
    assert "<title>&lt;t&gt;</title>" in page
    assert "<d>" not in page


def test_the_report_shows_what_the_proposal_changes_not_the_raw_objective() -> None:
    """HR read neither the optimiser's objective (0.9818) nor 50 rows of +0.0000: the summary
    gives the departments' mean performance before and after, and the table only the KPIs
    that move, by name."""
    plan = acme_plan()
    page = render_report(
        plan=plan,
        optimise={
            "status": "optimal",
            "objective": 0.9818093410391671,
            "allocations": [],
            "departments": [
                {"id": "sales", "current": 0.9, "proposed": 0.95},
                {"id": "marketing", "current": 0.8, "proposed": 0.8},
            ],
            "predicted": [
                {"kpi": "sales.market_share", "current": 0.2, "proposed": 0.21},
                *[
                    {"kpi": kpi.id, "current": 1.0, "proposed": 1.0}
                    for _, kpi in list(plan.kpis())[:30]
                    if kpi.id != "sales.market_share"
                ],
            ],
        },
    )
    assert "0.9818" not in page
    assert "85.0% -&gt; 87.5%" in page
    share = next(k for _, k in plan.kpis() if k.id == "sales.market_share")
    assert html.escape(str(share.name)) in page
    assert "+0.0000" not in page
    assert "other KPIs keep their predicted value" in page


def test_the_findings_table_names_departments_as_the_plan_does() -> None:
    plan = acme_plan()
    page = render_report(plan=plan, check=sample_check())
    table = page.split("<table>", 1)[1]
    sales = next(d for d in plan.departments if d.id == "sales")
    assert html.escape(str(sales.name)) in table
    assert "<td>sales</td>" not in table and "<td>sales, " not in table
