# Sourced by the other scripts: makes sure pnpm (the version in package.json) is on PATH.
if ! command -v pnpm >/dev/null 2>&1; then
  echo "abuse-desk: installing pnpm 10 with npm" >&2
  npm install -g pnpm@10.34.9 >/dev/null
fi
