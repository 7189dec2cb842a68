#!/usr/bin/env bash
# Installs what the tests need (pnpm packages; kcat, chromium and swaks from Debian when missing; starts the
# local PostgreSQL if it is stopped), type-checks and builds everything, checks that each package.json lists
# exactly what its package imports (scripts/check-deps.mjs), then runs every test with tap and checks that
# no service log the tests wrote holds a token (scripts/check-log-secrets.mjs) — on this machine's Node
# and again on Node 24 LTS (fetched from the npm registry when missing, scripts/ensure-node24.sh).
# Database tests run on embedded PGlite and on PostgreSQL at TEST_DATABASE_URL: PostgreSQL is required,
# and the script stops with a message saying so when it is missing or does not answer.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-pnpm.sh

missing=()
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v swaks >/dev/null 2>&1 || missing+=(swaks) # an SMTP client that is not ours, for the intake tests
if [ ${#missing[@]} -gt 0 ]; then
  echo "abuse-desk: installing ${missing[*]} from Debian" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The Kafka tests run Apache Kafka 4 itself (TESTING.md): Java 17+ and Maven must be there.
for tool in java mvn; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "abuse-desk: the Kafka tests run Apache Kafka from Maven Central and need Java 17+ and Maven, but \`$tool\` is not on PATH." >&2
    echo "abuse-desk: install them (Debian: apt-get install openjdk-17-jdk-headless maven)." >&2
    exit 1
  fi
done

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
if ! command -v pg_isready >/dev/null 2>&1; then
  echo "abuse-desk: the tests need PostgreSQL, but pg_isready (PostgreSQL's client tools) is not on PATH." >&2
  echo "abuse-desk: install PostgreSQL (Debian: apt-get install postgresql), or run a server and set TEST_DATABASE_URL" >&2
  echo "abuse-desk: (default postgres://postgres@127.0.0.1:5432/test, a superuser that may create databases) with pg_isready on PATH." >&2
  exit 1
fi
if ! pg_isready -q -d "$TEST_DATABASE_URL"; then
  cluster="$(ls /etc/postgresql 2>/dev/null | head -1)"
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -n "$cluster" ]; then
    echo "abuse-desk: starting the local PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$cluster" main start || true
    for _ in $(seq 1 30); do pg_isready -q -d "$TEST_DATABASE_URL" && break; sleep 1; done
  fi
  if ! pg_isready -q -d "$TEST_DATABASE_URL"; then
    echo "abuse-desk: the tests need PostgreSQL, and none answers at TEST_DATABASE_URL ($(pg_isready -d "$TEST_DATABASE_URL" 2>&1 || true))." >&2
    echo "abuse-desk: start it (Debian: pg_ctlcluster <version> main start) or point TEST_DATABASE_URL at a running server." >&2
    exit 1
  fi
fi

pnpm install --frozen-lockfile --prefer-offline
pnpm -s build
node scripts/check-deps.mjs
node packages/testkit/dist/kafka-classpath.js # Kafka's jars through mvn once, before parallel test files start clusters
node bench/report.mjs --check # the README's benchmark tables are what bench/results/*.json give
if [ $# -gt 0 ]; then files=("$@"); else files=('packages/*/dist/**/*.test.js' 'services/*/dist/**/*.test.js' 'test/dist/**/*.test.js'); fi
status=0
# One pass of the suite with the node first on PATH (the tests start the service with the same node), then
# the check that no token the tests created appears in any service log (issue 15). Logs and recorded
# secrets of an earlier pass would be checked again: each pass starts from none.
pass() {
  echo "abuse-desk: the tests on Node $(node --version)"
  rm -rf test-artifacts/logs test-artifacts/secrets
  mkdir -p test-artifacts
  pnpm exec tap "${files[@]}" || status=1
  node scripts/check-log-secrets.mjs || status=1
}
pass
# Node 20 (this machine's) is end-of-life; Node 24 LTS is what the image runs: the whole suite on both.
# ABUSE_DESK_NODE24=0 skips the second pass (a quicker local run).
if [ "${ABUSE_DESK_NODE24:-1}" != 0 ]; then
  node24="$(bash scripts/ensure-node24.sh)"
  PATH="$node24:$PATH" pass
fi
exit $status
