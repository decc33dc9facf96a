#!/usr/bin/env bash
# Runs the conformance (every driver, and savepoint/testing under node:test), HTTP and CLI suites on another Node major: .ci/other-node.sh 22
#
# The binary comes from npm (the package `node@<major>` ships it as `node-<platform>-<arch>@<major>`).
# better-sqlite3 is a native addon built for the Node that ran `npm ci`, so a copy of the checkout
# gets it rebuilt against this Node's own headers (shipped in that package, so nothing is fetched
# from nodejs.org), and the checkout itself keeps working on the first Node.
set -euo pipefail
major=${1:?usage: .ci/other-node.sh <major>}
root=$(cd "$(dirname "$0")/.." && pwd)

# The platform package that the `node` package installs, into a directory of our own: a shared npx
# cache can be rewritten by another npx run meanwhile. It holds bin/node and include/node.
package="node-$(node -p 'process.platform + "-" + process.arch')"
# Outside $HOME: a test runs the server as an unprivileged user (uid 1000), who must reach this
# Node binary and the copy below, and root's home is closed to other users.
nodedir=${SAVEPOINT_CI_CACHE:-/var/cache/savepoint-ci}/$package-$major
if [ ! -x "$nodedir/node_modules/$package/bin/node" ]; then
  mkdir -p "$nodedir"
  npm install --prefix "$nodedir" --no-save --no-package-lock --no-audit --no-fund "$package@$major" >/dev/null
fi
nodedir=$nodedir/node_modules/$package
node_bin=$nodedir/bin/node
[ -f "$nodedir/include/node/node_api.h" ] || { echo "error: no headers in $nodedir" >&2; exit 1; }
echo "ci: Node $("$node_bin" --version) at $node_bin (headers in $nodedir)"

copy=$(mktemp -d "/tmp/savepoint-node$major.XXXXXX")
chmod 755 "$copy"
trap 'rm -rf "$copy"' EXIT
# dist/ comes along: compiled JavaScript runs on every Node; only the addon differs.
tar -C "$root" --exclude=./.git --exclude=./data -c . | tar -C "$copy" -x
cd "$copy"
PATH="$(dirname "$node_bin"):$PATH" npm rebuild better-sqlite3 --nodedir="$nodedir" --no-audit --no-fund >/dev/null
PATH="$(dirname "$node_bin"):$PATH" SAVEPOINT_REQUIRE_SERVICES=1 \
  "$node_bin" node_modules/vitest/vitest.mjs run test/drivers test/testing test/http test/cli
