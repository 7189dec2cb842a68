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
summary=()
# One pass of the suite with the node first on PATH (the tests start the service with the same node), then
# the check that no token the tests created appears in any service log (issue 15). Logs and recorded
# secrets of an earlier pass would be checked again: each pass starts from none. tap's output is also kept
# in test-artifacts/tap-<node version>.log, so the summary at the end can name the files that failed (CI
# shows only the end of a long log).
pass() {
  local version tap_rc=0 log_rc=0 started=$SECONDS
  version="$(node --version)"
  echo "abuse-desk: the tests on Node $version"
  rm -rf test-artifacts/logs test-artifacts/secrets
  mkdir -p test-artifacts
  set +e
  # --reporter=tap: the same plain TAP in a terminal as in CI (tap would pick its colour reporter when forced), so
  # the failed files can be read from the log.
  pnpm exec tap --reporter=tap "${files[@]}" 2>&1 | tee "test-artifacts/tap-$version.log"
  tap_rc=${PIPESTATUS[0]}
  set -e
  node scripts/check-log-secrets.mjs || log_rc=$?
  local line="Node $version: $((SECONDS - started)) s, tap exit $tap_rc, log check exit $log_rc"
  if [ "$tap_rc" != 0 ]; then
    # Top-level "not ok" lines are the failed test files (a subtest's are indented).
    local failed
    failed="$(grep -E '^not ok [0-9]+ - ' "test-artifacts/tap-$version.log" | sed -E 's/^not ok [0-9]+ - (.*) # time=.*$/    \1/; s/^not ok [0-9]+ - /    /' || true)"
    line="$line; failed:"$'\n'"${failed:-    (no file reported not ok: see the tap output above)}"
  fi
  summary+=("$line")
  if [ "$tap_rc" != 0 ] || [ "$log_rc" != 0 ]; then status=1; fi
}
report() {
  echo "abuse-desk: test summary"
  printf '  %s\n' "${summary[@]}"
  [ $status = 0 ] && echo "abuse-desk: every pass passed" || echo "abuse-desk: FAILED"
}
pass
# Node 20 (this machine's) is end-of-life; Node 24 LTS is what the image runs: the whole suite on both.
# ABUSE_DESK_NODE24=0 skips the second pass (a quicker local run).
if [ "${ABUSE_DESK_NODE24:-1}" != 0 ]; then
  if ! node24="$(bash scripts/ensure-node24.sh)"; then
    echo "abuse-desk: could not get Node 24 for the second pass (see above)" >&2
    summary+=("Node 24: not run, scripts/ensure-node24.sh failed")
    status=1
  else
    PATH="$node24:$PATH" pass
  fi
fi
report
exit $status
