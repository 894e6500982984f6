#!/usr/bin/env bash
# The quarter-end job on the bundled example company (run by `make demo`).
set -euo pipefail
out="${DEMO_OUT:-demo-output}"
mkdir -p "$out"
db="sqlite:///$out/alignment-engine.db"
plan=scenarios/acme/plan.yaml
policy=policies/annual-bonus-2026.yaml

echo "== 1. validate the example company's files"
alignment-engine validate scenarios/acme policies rules
echo
echo "== 1b. the incentive policies pay what they intend (policies/tests)"
alignment-engine policy test policies/tests | tail -4
echo
echo "== 1c. what the policy would cost: the last 12 quarters' results, resampled"
alignment-engine policy simulate --plan "$plan" --policy "$policy" \
  --history scenarios/acme/history-kpis.csv --employees scenarios/acme/employees.csv \
  --period 2026-Q3 --db "$db" --out "$out/cost-simulation" | sed -n 1,8p
echo
echo "== 2. the example company at a glance"
alignment-engine summary "$plan"
echo
echo "== 3. check alignment and conflicts (plan + incentive policy)"
alignment-engine check "$plan" --policy "$policy" --db "$db"
echo
echo "== 4. score 2026-Q3 (run stored in $out/alignment-engine.db)"
alignment-engine score --plan "$plan" --policy "$policy" \
  --actuals scenarios/acme/actuals-2026-q3.csv --employees scenarios/acme/employees.csv \
  --period 2026-Q3 --db "$db" --out "$out/2026-Q3"
echo
echo "== 5. the Balanced Scorecard of 2026-Q3: KPIs, objectives and perspectives (no pay in it)"
alignment-engine scorecard "$plan" --actuals scenarios/acme/actuals-2026-q3.csv \
  --period 2026-Q3 --db "$db" --out "$out/2026-Q3-scorecard"
echo
echo "== 6. why one person got what they got"
alignment-engine score --plan "$plan" --policy "$policy" \
  --actuals scenarios/acme/actuals-2026-q3.csv --employees scenarios/acme/employees.csv \
  --period 2026-Q3 --db "$db" --explain E00002
echo
echo "== 7. suggested reallocation of budget, headcount and engineering hours"
alignment-engine optimise "$plan" --db "$db"
echo
echo "== 8. what-if: does removing the promo push fix the margin conflict?"
alignment-engine scenario compare "$plan" scenarios/acme/fix-margin-conflict.yaml
echo
echo "== 9. the stored runs, and the score run recomputed from the database alone"
alignment-engine runs list --db "$db"
score_run=$(alignment-engine runs list --kind score --format json --db "$db" \
  | python -c 'import json, sys; print(json.load(sys.stdin)["runs"][0]["id"])')
alignment-engine runs replay "$score_run" --db "$db"
echo
echo "== 10. one payout explained again from the stored run alone (checked against the stored cent)"
alignment-engine runs show "$score_run" --explain E00002 --db "$db" | tail -3
echo
echo "Reports: $out/2026-Q3/report.html, $out/2026-Q3-scorecard/report.html"
