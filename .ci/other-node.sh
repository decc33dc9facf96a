#!/usr/bin/env bash
# Runs the conformance (every driver), HTTP and CLI suites on another Node major: .ci/other-node.sh 22
#
# The binary comes from the npm package `node@<major>` (npx caches it). better-sqlite3 is a native
# addon built for the Node that ran `npm ci`, so a copy of the checkout gets it rebuilt against
# this Node's own headers (shipped in the package, so nothing is fetched from nodejs.org), and the
# checkout itself keeps working on the first Node.
set -euo pipefail
major=${1:?usage: .ci/other-node.sh <major>}
root=$(cd "$(dirname "$0")/.." && pwd)

node_bin=$(cd /tmp && npx -y "node@$major" -p process.execPath)
nodedir=$(find "$(dirname "$(dirname "$node_bin")")" -path '*/include/node/node_api.h' -print -quit)
[ -n "$nodedir" ] || { echo "error: no headers for node@$major next to $node_bin" >&2; exit 1; }
nodedir=${nodedir%/include/node/node_api.h}
echo "ci: Node $("$node_bin" --version) at $node_bin (headers in $nodedir)"

copy=$(mktemp -d "/tmp/savepoint-node$major.XXXXXX")
trap 'rm -rf "$copy"' EXIT
# dist/ comes along: compiled JavaScript runs on every Node; only the addon differs.
tar -C "$root" --exclude=./.git --exclude=./data -c . | tar -C "$copy" -x
cd "$copy"
PATH="$(dirname "$node_bin"):$PATH" npm rebuild better-sqlite3 --nodedir="$nodedir" --no-audit --no-fund >/dev/null
PATH="$(dirname "$node_bin"):$PATH" SAVEPOINT_REQUIRE_SERVICES=1 \
  "$node_bin" node_modules/vitest/vitest.mjs run test/drivers test/http test/cli
