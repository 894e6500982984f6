"""``alignment-engine init DIR``: a commented starter company that validates, checks and scores.

Three departments, one objective per Balanced Scorecard perspective, a shared goal, a budget pool,
a policy with a levels curve and an attainment curve, a quarter's actuals and five employees. The
comments say what each key does and where docs/file-formats.md describes it; every value is one a
new user replaces with their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from alignment_engine.i18n import _, current, gettext

__all__ = ["STARTER_FILES", "comment_blocks", "starter_files"]

_PLAN = """\
# A starter plan: replace the ids, names and numbers with your company's.
# Every key is described in docs/file-formats.md ("Plan"); `alignment-engine validate plan.yaml`
# checks it and names the file, line and key of any mistake.
kind: plan
id: my-company-{year}
name: My Company
currency: EUR
fiscal_year: {year}

# Corporate objectives, one per Balanced Scorecard perspective. `drives` says which objective an
# objective serves (learning -> process -> customer -> financial).
objectives:
  - {{id: F1, name: Grow profit, perspective: financial, horizon: long}}
  - {{id: C1, name: Keep customers, perspective: customer, horizon: long, drives: [F1]}}
  - {{id: P1, name: Deliver on time, perspective: internal_process, horizon: short, drives: [C1]}}
  - {{id: L1, name: Build skills, perspective: learning_growth, horizon: long, drives: [P1]}}

# What is measured, and which way is better. `influences` are the known effects between metrics:
# the conflict check follows them (up to five hops) to find targets that work against each other.
metrics:
  - {{id: revenue, unit: EUR, better: higher, aggregation: sum}}
  - {{id: gross_margin, unit: ratio, better: higher}}
  - {{id: discount_rate, unit: ratio, better: lower}}
  - {{id: retention, unit: ratio, better: higher}}
  - {{id: on_time, unit: ratio, better: higher}}
  - {{id: training_hours, unit: hours, better: higher, aggregation: sum}}
influences:
  - {{from: discount_rate, to: revenue, sign: "+", strength: 0.4}}
  - {{from: discount_rate, to: gross_margin, sign: "-", strength: 0.6}}
  - {{from: on_time, to: retention, sign: "+", strength: 0.5}}
  - {{from: training_hours, to: on_time, sign: "+", strength: 0.3}}

company_kpis:
  - {{id: company.revenue, metric: revenue, target: 1200000, weight: 1, rollup: sum,
     objectives: [F1]}}

# Each department's KPIs: target (what it is paid on), optional threshold and maximum (where pay
# starts and where it stops rising), weight (the KPI's share of the department score; they sum to
# 1 or 100%), and the objectives it serves.
departments:
  - id: sales
    name: Sales
    kpis:
      - {{id: sales.revenue, metric: revenue, target: 1200000, threshold: 1000000,
         maximum: 1400000, weight: 70%, objectives: [F1], rolls_up_to: company.revenue}}
      - {{id: sales.retention, metric: retention, target: 0.9, threshold: 0.85, maximum: 0.95,
         weight: 30%, objectives: [C1]}}
  - id: operations
    name: Operations
    kpis:
      - {{id: operations.on_time, metric: on_time, target: 0.95, threshold: 0.9, maximum: 0.99,
         weight: 70%, objectives: [P1], horizon: short}}
      - {{id: operations.training, metric: training_hours, target: 400, threshold: 300,
         maximum: 500, weight: 30%, objectives: [L1]}}
  - id: finance
    name: Finance
    kpis:
      - {{id: finance.gross_margin, metric: gross_margin, target: 0.4, threshold: 0.36,
         maximum: 0.44, weight: 1, objectives: [F1]}}

# A goal several departments share (and are paid on together).
shared_goals:
  - {{id: shared.margin, metric: gross_margin, target: 0.4, threshold: 0.36, maximum: 0.44,
     departments: [sales, finance], objectives: [F1]}}

# Resource pools: today's allocation, what each department asks for, and how far one move may go.
resources:
  - id: budget
    unit: EUR
    capacity: 300000
    allocation: {{sales: 150000, operations: 100000, finance: 50000}}
    demand: {{sales: 170000}}
    max_change: 0.2

# How KPIs respond to a resource (a * (1 - exp(-b * amount)) for `saturating`), for `optimise`:
# `alignment-engine optimise plan.yaml` moves budget where it does most for the company.
response_curves:
  - {{kpi: sales.revenue, resource: budget, shape: saturating, params: {{a: 1500000, b: 1.0e-5}}}}
  - {{kpi: operations.on_time, resource: budget, shape: saturating, params: {{a: 1.0, b: 3.0e-5}}}}
"""

_POLICY = """\
# A starter incentive policy: described in docs/file-formats.md ("Policy").
kind: policy
id: bonus-{year}
currency: EUR

# How an employee's bonus factor is made: the shares of the company, department, shared-goal and
# individual components (they sum to 1 or 100%).
components: {{company: 0.2, department: 0.5, shared: 0.2, individual: 0.1}}

# Payout curves: `levels` pays at the KPI's own threshold / target / maximum; `attainment` pays
# on actual / target. Every KPI uses `default` unless `kpi_curves` names another.
curves:
  default:
    basis: levels
    points: {{threshold: 0.5, target: 1.0, maximum: 1.5}}
    below_threshold: 0
  revenue:
    basis: attainment
    points: [[0.9, 0.6], [1.0, 1.0], [1.2, 1.5]]
kpi_curves: {{company.revenue: revenue, sales.revenue: revenue}}

caps: {{kpi: 1.5, employee: 1.5}}

# A gate: nobody earns more than half their bonus when the margin misses badly.
gates:
  - id: margin-gate
    when: {{kpi: finance.gross_margin, attainment: {{lt: 0.8}}}}
    effect: {{cap: 0.5}}
    applies_to: all

# The bonus pool: payouts are scaled down to fit it, and rounded to the cent.
pool: {{amount: 60000, mode: scale_down}}
rounding: {{decimals: 2, mode: half_up}}
proration: days
"""

_ACTUALS = """\
period,scope,kpi,actual
{period},company,company.revenue,1250000
{period},sales,sales.revenue,1250000
{period},sales,sales.retention,0.88
{period},operations,operations.on_time,0.96
{period},operations,operations.training,350
{period},finance,finance.gross_margin,0.41
{period},shared.margin,shared.margin,0.41
"""

_EMPLOYEES = """\
employee_id,department,target_bonus,individual_score,start_date,end_date,currency
E001,sales,12000,1.1,,,EUR
E002,sales,9000,0.95,,,EUR
E003,operations,8000,1.0,,,EUR
E004,operations,7000,1.05,{joined},,EUR
E005,finance,10000,1.0,,,EUR
"""

_README = """\
# {title}

    alignment-engine validate plan.yaml policy.yaml
    alignment-engine check plan.yaml --policy policy.yaml
    alignment-engine score --plan plan.yaml --policy policy.yaml --actuals actuals.csv \\
        --employees employees.csv --period {period} --out report
    alignment-engine optimise plan.yaml

{advice}
"""

STARTER_FILES = ("plan.yaml", "policy.yaml", "actuals.csv", "employees.csv", "README.md")


def comment_blocks(text: str) -> list[str]:
    """The comments of a starter file, each run of ``# `` lines one block (the text without
    its ``# ``, lines joined by newlines): what a translation of the file translates."""
    blocks: list[str] = []
    block: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("# "):
            block.append(line[2:])
        elif block:
            blocks.append("\n".join(block))
            block = []
    return blocks


def _commented_in_language(text: str) -> str:
    """``text`` with its comments in the current language (the catalogue translates each
    block whole, so that a translator writes sentences, not lines); keys, ids and values stay
    as they are, so the file means the same in every language."""
    if current() == "en":
        return text
    out: list[str] = []
    lines = text.splitlines(keepends=True)
    index = 0
    while index < len(lines):
        if not lines[index].startswith("# "):
            out.append(lines[index])
            index += 1
            continue
        block: list[str] = []
        while index < len(lines) and lines[index].startswith("# "):
            block.append(lines[index][2:].rstrip("\n"))
            index += 1
        translated = gettext("\n".join(block))
        out.extend(f"# {line}\n" for line in translated.split("\n"))
    return "".join(out)


def starter_files(period_of: date) -> Mapping[str, str]:
    """The starter's files (name -> text) for the quarter holding ``period_of``, their
    comments and README in the current language (``--lang``)."""
    year = period_of.year
    period = f"{year}-Q{(period_of.month - 1) // 3 + 1}"
    quarter_start = 3 * ((period_of.month - 1) // 3) + 1
    joined = f"{year}-{quarter_start + 1:02d}-01"  # joined in the quarter's second month
    values = {"year": year, "period": period, "joined": joined}
    readme = {
        "title": _("My Company: a starter for alignment-engine"),
        "advice": _(
            "Replace the ids, names and numbers with your own; docs/file-formats.md describes "
            "every key."
        ),
    }
    return {
        "plan.yaml": _commented_in_language(_PLAN).format(**values),
        "policy.yaml": _commented_in_language(_POLICY).format(**values),
        "actuals.csv": _ACTUALS.format(**values),
        "employees.csv": _EMPLOYEES.format(**values),
        "README.md": _README.format(**values, **readme),
    }
