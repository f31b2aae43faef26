#!/usr/bin/env bash
# CI: the end-to-end tests (npm run test:e2e) against a real Prometheus. Installs Debian's
# `prometheus` package when no prometheus binary is on the PATH (root, or sudo without a
# password), builds the package the examples import, then runs the tests. Expects the Node and
# node_modules that .ci/run set up. Never skips: without Prometheus the tests fail and say how
# to install it.
set -euo pipefail
cd "$(dirname "$0")/.."

source .ci/install-prometheus.sh prometheus
# The package's service is not needed: the tests start their own Prometheus on a free port.
echo "=== $(prometheus --version 2>&1 | head -n 1)"

echo "=== build"
npm run build

echo "=== npm run test:e2e"
npm run test:e2e
