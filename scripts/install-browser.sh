#!/usr/bin/env bash
# Installs what the browser tests (crates/server/tests/browser.rs) need: Debian's Chromium, its
# WebDriver (chromedriver) and CJK fonts so that screenshots show the Chinese pages. Idempotent:
# does nothing when everything is already there. Needs root (CI runs as root).
set -euo pipefail

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
