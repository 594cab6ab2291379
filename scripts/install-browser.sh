#!/usr/bin/env bash
# Installs what the browser tests (crates/server/tests/browser.rs) need: Debian's Chromium, its
# WebDriver (chromedriver), CJK fonts so that screenshots show the Chinese pages, and axe-core
# (npm, pinned in crates/server/tests/a11y/package-lock.json) that checks the pages' accessibility.
# Idempotent: does nothing when everything is already there. Needs root (CI runs as root).
set -euo pipefail
cd "$(dirname "$0")/.."

a11y=crates/server/tests/a11y
if [ ! -f "$a11y/node_modules/axe-core/axe.min.js" ]; then
    echo "install-browser: installing axe-core from the npm registry"
    npm ci --prefix "$a11y" --no-audit --no-fund --silent
fi

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)

if [ ${#need[@]} -eq 0 ]; then
    echo "install-browser: chromium, chromedriver and CJK fonts already installed"
    exit 0
fi

echo "install-browser: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
/usr/bin/chromium --version || true
/usr/bin/chromedriver --version || true
