"""report.html in a real browser (headless Chromium): it renders, its charts are all there, and
the console stays clean with every network name unresolvable (so any fetch would show up).

Needs the Debian ``chromium`` package (``apt-get install -y chromium``; ``fonts-noto-cjk`` makes
the Chinese labels legible in the screenshot). Without it the test is skipped, unless
ALIGNMENT_REQUIRE_BROWSER=1, when it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from report_samples import acme_plan, sample_check, sample_optimise, sample_score

from alignment_engine.reports import write_report
from alignment_engine.reports.conflict_graph import graph_findings

pytestmark = pytest.mark.slow

WINDOW = (1400, 3000)
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium")


def chromium() -> str:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    message = "headless Chromium is not installed (apt-get install -y chromium)"
    if os.environ.get("ALIGNMENT_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


def browser_command(binary: str, profile: Path, *extra: str) -> list[str]:
    return [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # a fetch would fail loudly, not silently pass
        "--enable-logging=stderr",
        "--v=0",
        f"--user-data-dir={profile}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        *extra,
    ]


# --- a minimal PNG reader (PIL is not a dependency) ------------------------------------------


def png_chunks(data: bytes) -> dict[bytes, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    chunks: dict[bytes, bytes] = {}
    position = 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        chunks[kind] = chunks.get(kind, b"") + data[position + 8 : position + 8 + length]
        position += 12 + length
    return chunks


def png_rows(data: bytes, limit: int) -> tuple[int, int, list[bytes], float]:
    """(width, height, the first ``limit`` rows unfiltered, share of non-zero filtered bytes)."""
    chunks = png_chunks(data)
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert depth == 8 and interlace == 0 and colour in (2, 6), (depth, colour, interlace)
    pixel = 4 if colour == 6 else 3
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = width * pixel
    assert len(raw) == height * (stride + 1)
    nonzero = (len(raw) - raw.count(0)) / len(raw)
    rows: list[bytes] = []
    previous = bytearray(stride)
    for index in range(min(limit, height)):
        start = index * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(pixel, stride):
                line[i] = (line[i] + line[i - pixel]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - pixel] if i >= pixel else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - pixel] if i >= pixel else 0
                b = previous[i]
                c = previous[i - pixel] if i >= pixel else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                best = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + best) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows, nonzero


# --- the test --------------------------------------------------------------------------------


def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    binary = chromium()
    plan = acme_plan()
    check = sample_check()
    report = write_report(
        tmp_path / "report.html",
        plan=plan,
        check=check,
        score=sample_score(plan),
        optimise=sample_optimise(plan),
        title="ACME 2026 报告",
    )
    url = report.resolve().as_uri()
    shot = tmp_path / "shot.png"
    screenshot = subprocess.Popen(
        browser_command(binary, tmp_path / "profile-shot", f"--screenshot={shot}", url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    dump = subprocess.Popen(
        browser_command(binary, tmp_path / "profile-dom", "--dump-dom", url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    dom, dom_log = dump.communicate(timeout=90)
    _, shot_log = screenshot.communicate(timeout=90)
    assert dump.returncode == 0, dom_log[-2000:]
    assert screenshot.returncode == 0, shot_log[-2000:]

    # No console errors (there is no script; a failed fetch would be one too).
    for log in (dom_log, shot_log):
        console = [line for line in log.splitlines() if "Uncaught" in line or "CONSOLE" in line]
        assert console == []

    # The charts are in the rendered DOM.
    assert len(re.findall(r"<svg\b", dom)) == 5
    assert len(re.findall(r'<g class="objective"', dom)) == len(plan.objectives)
    assert len(re.findall(r'<path class="drive"', dom)) == sum(
        len(o.drives) for o in plan.objectives
    )
    assert len(re.findall(r'<g class="department-node"', dom)) == len(plan.departments)
    assert len(re.findall(r'<g class="finding-edge', dom)) == len(
        graph_findings(plan, check["findings"])
    )
    assert len(re.findall(r'class="rag-cell', dom)) == sum(1 for _ in plan.kpis())
    assert len(re.findall(r'<g class="payout-box"', dom)) == len(plan.departments)
    assert "ACME 2026 报告" in dom

    # The screenshot is the window's size and not blank: the dark page header is at the top,
    # and the page below it is far from uniform.
    width, height, rows, nonzero = png_rows(shot.read_bytes(), limit=40)
    assert (width, height) == WINDOW
    assert nonzero > 0.01
    pixel = len(rows[0]) // width
    header = rows[20]
    dark = sum(
        1
        for x in range(0, width * pixel, pixel)
        if header[x] < 60 and header[x + 1] < 60 and header[x + 2] < 80
    )
    assert dark > width * 0.5


def rendered(binary: str, tmp_path: Path, page: Path) -> tuple[str, Path]:
    """The page's DOM after Chromium rendered it, and a screenshot of it."""
    url = page.resolve().as_uri()
    shot = tmp_path / "shot.png"
    run = subprocess.run(
        browser_command(binary, tmp_path / "profile-shot", f"--screenshot={shot}", url),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    dumped = subprocess.run(
        browser_command(binary, tmp_path / "profile-dom", "--dump-dom", url),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    return dumped.stdout, shot


def test_the_scorecard_report_renders_its_coloured_map_in_headless_chromium(
    tmp_path: Path,
) -> None:
    import pandas as pd

    from alignment_engine.scoring.scorecard import score_scorecard

    binary = chromium()
    plan = acme_plan()
    acme = Path(__file__).resolve().parents[2] / "scenarios" / "acme"
    actuals = pd.read_csv(acme / "actuals-2026-q3.csv", dtype=str, keep_default_na=False)
    card = score_scorecard(plan, [actuals], "2026-Q3").to_dict()
    history = [{"period": "2026-Q2", "scores": {f"kpi:{k['kpi']}": 0.9 for k in card["kpis"]}}]
    report = write_report(
        tmp_path / "report.html",
        plan=plan,
        scorecard=card,
        scorecard_history=history,
        title="ACME 2026 计分卡",
    )
    dom, shot = rendered(binary, tmp_path, report)
    # Every objective box carries its status and its colour; every band its score.
    for objective in card["objectives"]:
        colour = objective["status"] if objective["status"] in ("green", "amber", "red") else "grey"
        box = re.search(
            rf'<g class="objective" data-id="{objective["objective"]}"[^>]*'
            rf'data-status="{objective["status"]}">.*?<rect class="objective-box [^"]*rag-{colour}"',
            dom,
        )
        assert box is not None, objective["objective"]
    assert len(re.findall(r'class="band-score status-', dom)) == 4
    assert len(re.findall(r'<g class="cell"', dom)) == 4 * len(plan.departments)
    assert len(re.findall(r'<svg class="sparkline"', dom)) == len(card["kpis"])
    assert "ACME 2026 计分卡" in dom
    width, height, _, nonzero = png_rows(shot.read_bytes(), limit=40)
    assert (width, height) == WINDOW and nonzero > 0.01


def test_a_payee_statement_renders_with_chinese_text_in_headless_chromium(tmp_path: Path) -> None:
    import pandas as pd

    from alignment_engine.reports.statements import statement_html
    from alignment_engine.ruleset.gate_rules import rule_gate_outcomes
    from alignment_engine.scoring import score_period

    binary = chromium()
    plan = acme_plan()
    acme = Path(__file__).resolve().parents[2] / "scenarios" / "acme"
    root = acme.parents[1]
    from alignment_engine.loading import policy_from_yaml

    policy = policy_from_yaml(root / "policies" / "annual-bonus-2026.yaml")
    actuals = pd.read_csv(acme / "actuals-2026-q3.csv", dtype=str, keep_default_na=False)
    employees = pd.read_csv(acme / "employees.csv").head(3)
    result = score_period(
        plan, policy, actuals, employees, "2026-Q3", evaluate_gates=rule_gate_outcomes
    )
    explanation = result.explanation(0, "full")
    assert explanation is not None
    page = tmp_path / "statement.html"
    page.write_text(
        statement_html(
            employee_id=str(result.employees.employee_id[0]),
            name="王小明",
            explanation=explanation,
            run_id="0123456789abcdef",
            period=result.period,
            plan=result.plan_id,
            policy=result.policy_id,
            currency=result.settings.currency,
            decimals=result.settings.decimals,
            payout_units=int(result.employees.units[0]),
        ),
        encoding="utf-8",
    )
    dom, shot = rendered(binary, tmp_path, page)
    assert "王小明" in dom
    assert dom.count("<tr>") > 10  # the KPI rows and the steps to the payout
    width, height, _, nonzero = png_rows(shot.read_bytes(), limit=40)
    assert (width, height) == WINDOW and nonzero > 0.01


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_the_report_renders_in_both_languages_with_no_label_cut_inside_a_word(
    tmp_path: Path, language: str
) -> None:
    """HR reads the report in English or Chinese (--lang): headings in that language, and every
    label on the page whole or cut between words (a cut ends in " …"), never inside one."""
    from alignment_engine.i18n import using

    binary = chromium()
    plan = acme_plan()
    with using(language):
        report = write_report(
            tmp_path / "report.html",
            plan=plan,
            check=sample_check(),
            score=sample_score(plan),
            optimise=sample_optimise(plan),
        )
    dom, shot = rendered(binary, tmp_path, report)
    width, height, _rows, nonzero = png_rows(shot.read_bytes(), limit=40)
    assert (width, height) == WINDOW and nonzero > 0.01
    assert f'<html lang="{language}">' in dom
    heading = "概览" if language == "zh-CN" else "Summary"
    assert f"<h2>{heading}</h2>" in dom
    texts = re.findall(r">([^<>]*…[^<>]*)<", dom)
    cut_inside = [t for t in texts if re.search(r"[^\s]…", t)]
    assert cut_inside == [], cut_inside[:10]


def test_the_scorecard_renders_in_chinese_with_no_label_cut_inside_a_word(tmp_path: Path) -> None:
    """The scorecard page (scorecard --out) in Chinese: its perspectives and chart labels in
    Chinese, every label whole or cut between words."""
    import pandas as pd

    from alignment_engine.i18n import using
    from alignment_engine.scoring.scorecard import score_scorecard

    binary = chromium()
    plan = acme_plan()
    acme = Path(__file__).resolve().parents[2] / "scenarios" / "acme"
    actuals = pd.read_csv(acme / "actuals-2026-q3.csv", dtype=str, keep_default_na=False)
    card = score_scorecard(plan, [actuals], "2026-Q3").to_dict()
    with using("zh-CN"):
        report = write_report(tmp_path / "report.html", plan=plan, scorecard=card)
    dom, shot = rendered(binary, tmp_path, report)
    width, height, _rows, nonzero = png_rows(shot.read_bytes(), limit=40)
    assert (width, height) == WINDOW and nonzero > 0.01
    assert '<html lang="zh-CN">' in dom and "按维度与部门的得分" in dom
    assert "Internal process" not in dom and "(amber)" not in dom
    texts = re.findall(r">([^<>]*…[^<>]*)<", dom)
    assert [t for t in texts if re.search(r"[^\s]…", t)] == []


_MEASURE = """<script>
(function () {
  // Every short word of a table cell (a name, a header, a badge: at most 12 characters between
  // spaces) must sit on one line; long Chinese runs are sentences, which may wrap anywhere.
  const broken = [];
  document.querySelectorAll("th, td").forEach(function (cell) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.parentElement.closest("svg")) continue;
      const text = node.textContent;
      let start = 0;
      for (const word of text.split(/(\\s+)/)) {
        if (word.trim() && word.length <= 12 && word.length > 1) {
          const tops = [];
          for (let i = start; i < start + word.length; i++) {
            const range = document.createRange();
            range.setStart(node, i);
            range.setEnd(node, i + 1);
            const box = range.getBoundingClientRect();
            if (box.width > 0) tops.push(box.top);
          }
          if (tops.length && Math.max(...tops) - Math.min(...tops) > 6) broken.push(word);
        }
        start += word.length;
      }
    }
  });
  const wide = document.documentElement.scrollWidth > window.innerWidth;
  const out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify({broken: broken, wide: wide});
  document.body.appendChild(out);
})();
</script>"""


def words_split_across_lines(binary: str, tmp_path: Path, page: Path) -> dict[str, object]:
    """What a page's tables look like in Chromium: the short words of its cells that wrap
    inside themselves (``冲/突``, ``生产/部``), and whether the page is wider than the window."""
    import json

    tmp_path.mkdir(exist_ok=True)
    measured = tmp_path / "measured.html"
    measured.write_text(
        page.read_text(encoding="utf-8").replace("</body>", _MEASURE + "</body>"), encoding="utf-8"
    )
    dumped = subprocess.run(
        browser_command(binary, tmp_path / "profile-measure", "--dump-dom", measured.as_uri()),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    found = re.search(r'<pre id="measured">(.*?)</pre>', dumped.stdout, re.S)
    assert found is not None, "the measuring script did not run"
    import html

    result: dict[str, object] = json.loads(html.unescape(found.group(1)))
    return result


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_no_name_or_header_in_a_table_wraps_inside_itself(tmp_path: Path, language: str) -> None:
    """Names (生产部), headers (类别) and badges (冲突, 琥珀) stay whole on their line in the
    report's and the scorecard's tables, in both languages, and the page fits the window."""
    import pandas as pd

    from alignment_engine.i18n import using
    from alignment_engine.scoring.scorecard import score_scorecard

    binary = chromium()
    plan = acme_plan()
    acme = Path(__file__).resolve().parents[2] / "scenarios" / "acme"
    actuals = pd.read_csv(acme / "actuals-2026-q3.csv", dtype=str, keep_default_na=False)
    card = score_scorecard(plan, [actuals], "2026-Q3").to_dict()
    with using(language):
        pages = {
            "report": write_report(
                tmp_path / "report.html",
                plan=plan,
                check=sample_check(),
                score=sample_score(plan),
                optimise=sample_optimise(plan),
            ),
            "scorecard": write_report(tmp_path / "scorecard.html", plan=plan, scorecard=card),
        }
    for name, page in pages.items():
        measured = words_split_across_lines(binary, tmp_path / name, page)
        assert measured == {"broken": [], "wide": False}, (name, measured)
