#!/usr/bin/env bash
# CI: the Prometheus rules of dashboards/ and their Datadog twins. Installs Debian's `prometheus`
# package (which ships promtool) when promtool is not on the PATH (root, or sudo without a
# password), then: promtool check rules, promtool test rules (the unit tests in
# dashboards/prometheus-rules.test.yml), and the spec test/dashboards/rules.test.ts with promtool
# required, so that it cannot skip. Expects the Node and node_modules that .ci/run set up.
set -euo pipefail
cd "$(dirname "$0")/.."

source .ci/install-prometheus.sh promtool
echo "=== $(promtool --version 2>&1 | head -n 1)"

echo "=== promtool check rules dashboards/prometheus-rules.yml"
promtool check rules dashboards/prometheus-rules.yml

echo "=== promtool test rules dashboards/prometheus-rules.test.yml"
(cd dashboards && promtool test rules prometheus-rules.test.yml)

echo "=== test/dashboards/rules.test.ts (rules and monitors vs the README's metrics; the unit tests fail on known mistakes)"
INFEROMETER_REQUIRE_PROMTOOL=1 node scripts/ensure-node.mjs node_modules/vitest/vitest.mjs run test/dashboards/rules.test.ts
