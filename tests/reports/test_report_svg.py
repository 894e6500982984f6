"""The SVG text helpers: widths, wrapping (Chinese included), truncation; payout quantiles."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alignment_engine.reports.payouts import amount, quantiles
from alignment_engine.reports.svg import attrs, esc, fmt, text_width, truncate, wrap


def test_wide_characters_count_a_full_em() -> None:
    assert text_width("市场", 10) == 20
    assert text_width("ab", 10) == pytest.approx(11.2)


def test_wrap_breaks_words_and_between_chinese_characters() -> None:
    assert wrap("Grow profitable revenue", 90, 10) == ["Grow profitable", "revenue"]
    lines = wrap("扩大市场份额与品牌影响力", 60, 10)
    assert all(text_width(line, 10) <= 60 for line in lines)
    assert "".join(lines) == "扩大市场份额与品牌影响力"


def test_wrap_truncates_after_the_last_line() -> None:
    lines = wrap("one two three four five six seven eight", 40, 10, max_lines=2)
    assert len(lines) == 2
    assert lines[-1].endswith("…")


def test_truncate_keeps_short_text_and_cuts_long_text() -> None:
    assert truncate("short", 100, 10) == "short"
    cut = truncate("a rather long label 标签", 50, 10)
    assert cut.endswith("…") and text_width(cut, 10) <= 50


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=60), width=st.floats(min_value=20, max_value=300))
def test_wrapped_lines_fit(text: str, width: float) -> None:
    for line in wrap(text, width, 12, max_lines=4):
        assert text_width(line, 12) <= width + 1e-9


def test_escaping_and_attributes() -> None:
    assert esc('<a href="x">&</a>') == "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
    assert attrs({"x": 1.0, "y": None, "title": 'a"b'}) == ' x="1" title="a&quot;b"'
    assert fmt(-0.001) == "0" and fmt(2.345) == "2.35" and fmt(10.0) == "10"


def test_quantiles_interpolate() -> None:
    assert quantiles([1.0]) == (1.0, 1.0, 1.0, 1.0, 1.0)
    assert quantiles([4.0, 1.0, 3.0, 2.0]) == (1.0, 1.75, 2.5, 3.25, 4.0)
    with pytest.raises(ValueError):
        quantiles([])


def test_amounts_are_short() -> None:
    assert [amount(v) for v in (980, 35_400, 1_234_567, 2.5e9)] == [
        "980",
        "35.4k",
        "1.23M",
        "2.50B",
    ]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(min_value=-1e9, max_value=1e9), min_size=1, max_size=40))
def test_the_vectorised_box_statistics_match_the_definition(values: list[float]) -> None:
    """The chart groups a million payouts with numpy; each box must be the textbook one."""
    from alignment_engine.reports.payouts import _boxes

    rows = [{"department": "d1", "payout": v} for v in values]
    (box,) = _boxes(rows)
    expected = quantiles(values)
    got = (box.low, box.q1, box.median, box.q3, box.high)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-6)
    assert box.n == len(values)


def test_allocation_labels_carry_the_unit_and_nothing_to_nothing_is_not_new() -> None:
    """A new user read "0 -> 0 new" for engineering hours: a department with none today and
    none proposed shows no change, and every amount says what it counts."""
    import re
    from pathlib import Path

    from alignment_engine.loading import plan_from_yaml
    from alignment_engine.reports.allocations import allocation_chart

    plan = plan_from_yaml(Path(__file__).resolve().parents[2] / "scenarios/acme/plan.yaml")
    resource = next(r for r in plan.resources if r.unit)
    departments = [d.id for d in plan.departments]
    optimise = {
        "status": "optimal",
        "allocations": [
            {"resource": resource.id, "department": departments[0], "current": 0.0,
             "proposed": 0.0},
            {"resource": resource.id, "department": departments[1], "current": 0.0,
             "proposed": 5.0},
        ],
    }  # fmt: skip
    svg = allocation_chart(plan, optimise)
    labels = re.findall(r"0 → (\d+) " + re.escape(resource.unit) + r"([^<]*)<", svg)
    assert ("0", "") in labels  # no "new"
    assert ("5", "  new") in labels


def test_the_conflict_graph_names_every_department_in_full() -> None:
    """ "Human Resources 人力..." lost the Chinese half: a long name now takes two lines, broken
    between its languages, never cut."""
    import html
    import re
    from pathlib import Path

    from alignment_engine import engine
    from alignment_engine.loading import plan_from_yaml
    from alignment_engine.reports.conflict_graph import conflict_graph

    plan = plan_from_yaml(Path(__file__).resolve().parents[2] / "scenarios/acme/plan.yaml")
    findings = [f.to_dict() for f in engine.check_plan(plan).findings]
    svg = conflict_graph(plan, findings)
    labels = re.findall(r'<text[^>]*class="node-label"[^>]*>(.*?)</text>', svg)
    shown = [
        html.unescape(" ".join(re.findall(r"<tspan[^>]*>(.*?)</tspan>", label))) for label in labels
    ]
    assert sorted(shown) == sorted(d.name or d.id for d in plan.departments)
    assert "Customer Service 客户服务部" in shown  # on two lines: English, then Chinese


def test_charts_name_departments_and_kpis_in_full() -> None:
    """Heat-map cells and bar-chart rows of the example company lose no part of a name
    (they read "Human Resources 人力资源…" and "Revenue North 华北区…" before)."""
    import html
    import re
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from report_samples import acme_plan, sample_optimise, sample_score

    from alignment_engine.reports.allocations import allocation_chart
    from alignment_engine.reports.heatmap import heat_map
    from alignment_engine.reports.payouts import payout_chart

    plan = acme_plan()
    score = sample_score(plan)
    charts = {
        "heat map": heat_map(plan, score),
        "payouts": payout_chart(plan, score, "CNY"),
        "allocations": allocation_chart(plan, sample_optimise(plan)),
    }
    for name, svg in charts.items():
        texts = re.findall(r'class="(?:row-label|cell-text)"[^>]*>(.*?)</text>', svg)
        assert texts, name
        cut = [html.unescape(t) for t in texts if "…" in t]
        assert cut == [], (name, cut)


def test_truncation_cuts_between_words_of_either_language() -> None:
    """ "Promotion intensity 促销力度 (marke…" ended in half a word; a cut now falls at a space,
    after whole words, English or Chinese, unless one word alone is too long."""
    text = "Promotion intensity 促销力度 (marketing)"
    for width in (120.0, 150.0, 180.0, 200.0):
        cut = truncate(text, width, 11)
        assert text_width(cut, 11) <= width
        assert cut.endswith(" …"), cut
        kept = cut.removesuffix(" …")
        assert text.startswith(kept) and text[len(kept)] == " ", cut
    assert truncate("Supercalifragilistic", 60, 11).endswith("…")  # one long word: cut inside


def test_the_strategy_map_lists_kpis_in_full() -> None:
    """A long KPI label takes a second line in its objective's box rather than losing its
    owner: "Promotion intensity 促销力度 (marke…" before."""
    import re
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from report_samples import acme_plan

    from alignment_engine.reports.strategy_map import strategy_map

    plan = acme_plan()
    svg = strategy_map(plan)
    blocks = re.findall(r'class="objective-kpis"[^>]*>(.*?)</text>', svg)
    lines = [line for block in blocks for line in re.findall(r"<tspan[^>]*>(.*?)</tspan>", block)]
    assert lines and not [line for line in lines if "…" in line]
    assert any("(marketing)" in line for line in lines)
