#!/usr/bin/env bash
# The browser test drives Debian's headless Chromium; install it when it is missing and we may.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Chromium ontbreekt; installeren met apt-get (chromium, chromium-driver)..." >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
else
  echo "Chromium en chromedriver ontbreken: installeer 'chromium' en 'chromium-driver' (Debian) voor de browsertest." >&2
  exit 1
fi
