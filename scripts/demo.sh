#!/usr/bin/env bash
# The quarter-end job on the bundled example company (run by `make demo`).
set -euo pipefail
out="${DEMO_OUT:-demo-output}"
mkdir -p "$out"
echo "== 1. validate the example company's files"
alignment-engine validate scenarios/acme policies
echo
echo "== 2. summary of the example company"
alignment-engine summary scenarios/acme/plan.yaml
