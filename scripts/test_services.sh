#!/usr/bin/env bash
# What the tests need on this machine, installed or started if missing: PostgreSQL, Redis,
# LibreOffice Calc with Khmer fonts, poppler (pdftotext, pdfinfo) for the report's PDF test, and
# Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium; no browser download).
# Safe to run again: silent when everything is already up. Called by `make test`.
set -euo pipefail

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "test_services: $1 is missing and installing it needs root; run: sudo $0" >&2
    exit 1
  fi
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
packages=()
command -v soffice >/dev/null 2>&1 || packages+=(libreoffice-calc-nogui)
installed fonts-khmeros || fc-list 2>/dev/null | grep -qi "khmer os" || packages+=(fonts-khmeros)
command -v pdftotext >/dev/null 2>&1 && command -v pdfinfo >/dev/null 2>&1 || packages+=(poppler-utils)
[ -x /usr/bin/chromium ] || packages+=(chromium chromium-driver)
if [ ${#packages[@]} -gt 0 ]; then
  need_root "${packages[*]}"
  echo "test_services: installing ${packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  need_root "a running PostgreSQL"
  echo "test_services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  pg_isready -h 127.0.0.1 -p 5432 -q || { echo "test_services: PostgreSQL did not start" >&2; exit 1; }
fi

if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  echo "test_services: starting Redis"
  mkdir -p /tmp/survivor-link-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp/survivor-link-redis --logfile /tmp/survivor-link-redis/redis.log
  for _ in $(seq 1 10); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.5; done
fi
