#!/usr/bin/env bash
# The browser test injects axe-core (from npm, the version in tests/app/axe/package-lock.json) into the page.
set -euo pipefail
cd "$(dirname "$0")/../tests/app/axe"
if ! command -v npm >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "npm ontbreekt; installeren met apt-get (nodejs, npm)..." >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "npm ontbreekt: installeer Node.js en npm voor de toegankelijkheidstest (axe-core)." >&2
    exit 1
  fi
fi
npm ci --no-audit --no-fund --loglevel=error
touch node_modules/.installed
