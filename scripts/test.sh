#!/usr/bin/env bash
# Installs what the tests need (pnpm packages; kcat and chromium from Debian when missing; starts the
# local PostgreSQL if it is stopped), type-checks and builds everything, checks that each package.json lists
# exactly what its package imports (scripts/check-deps.mjs), then runs every test with tap.
# Database tests run on embedded PGlite and on PostgreSQL at TEST_DATABASE_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-pnpm.sh

missing=()
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "abuse-desk: installing ${missing[*]} from Debian" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "abuse-desk: starting the local PostgreSQL" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

pnpm install --frozen-lockfile --prefer-offline
pnpm -s build
node scripts/check-deps.mjs
mkdir -p test-artifacts
if [ $# -gt 0 ]; then
  exec pnpm exec tap "$@"
fi
exec pnpm exec tap 'packages/*/dist/**/*.test.js' 'services/*/dist/**/*.test.js' 'test/dist/**/*.test.js'
