#!/usr/bin/env bash
# Installs dependencies, builds, and starts the roles in ROLES (default: all four in one process,
# on embedded PGlite in DATA_DIR, HTTP ingest, console channels).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-pnpm.sh
pnpm install --frozen-lockfile --prefer-offline >/dev/null
pnpm -s build
exec node services/main/dist/main.js
