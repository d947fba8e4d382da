#!/usr/bin/env bash
# Installs the browsers the real-browser tests drive (tools/test/browsers): Debian's `chromium`
# (through playwright-core) and `firefox-esr` (through puppeteer-core over WebDriver BiDi), when
# missing. Idempotent: installed packages are left alone. The npm packages never download a browser
# of their own; these system binaries are the only ones used.
#
#   bash .ci/browsers.sh && pnpm test -- browsers
set -euo pipefail
cd "$(dirname "$0")/.."

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/bin/$1" ]; }

missing=()
have chromium || missing+=(chromium)
[ -x /usr/lib/firefox-esr/firefox-esr ] || missing+=(firefox-esr)

if [ "${#missing[@]}" -gt 0 ]; then
  echo "browsers: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "browsers: Debian packages present"
fi
echo "browsers: $(chromium --version 2>/dev/null || echo 'chromium ?'); $(/usr/lib/firefox-esr/firefox-esr --version 2>/dev/null || echo 'firefox-esr ?')"
