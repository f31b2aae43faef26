#!/usr/bin/env bash
# Sourced by .ci/e2e.sh and .ci/rules.sh: installs Debian's `prometheus` package (the server and
# promtool) when `$1` (prometheus or promtool) is not on the PATH (root, or sudo without a password).
if ! command -v "$1" >/dev/null 2>&1; then
  echo "=== installing prometheus (Debian package)"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends prometheus
fi
