#!/usr/bin/env bash
# Makes `node:20-bookworm-slim` available to podman for the container test.
#
# The real image is used when it is present or can be pulled. On a machine without an image
# registry, a stand-in is built under the same name: Debian bookworm (debootstrap, minbase) with
# this machine's node, npm and node headers, and a `node` user with uid 1000, like the real image.
# The stand-in also carries this machine's CA bundle (NODE_EXTRA_CA_CERTS) and points npm's
# node-gyp at the bundled headers, so `npm ci` inside the build reaches the registry and compiles
# better-sqlite3 without downloading headers. Once built, the stand-in is reused.
set -euo pipefail

IMAGE=node:20-bookworm-slim
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if podman image exists "$IMAGE"; then
  if [ "$(podman image inspect --format '{{index .Labels "savepoint.standin"}}' "$IMAGE" 2>/dev/null)" = "true" ]; then
    echo "base image: stand-in $IMAGE (reused; built by $0 because no registry was reachable)"
  else
    echo "base image: $IMAGE"
  fi
  exit 0
fi
if timeout 60 podman pull --quiet "docker.io/library/$IMAGE" >/dev/null 2>&1; then
  echo "base image: $IMAGE (pulled)"
  exit 0
fi

node_version=$(node --version)
echo "base image: $IMAGE could not be pulled; building a STAND-IN from Debian bookworm (debootstrap) with this machine's node $node_version"

node_bin=$(readlink -f "$(command -v node)")
node_prefix=$(dirname "$(dirname "$node_bin")")
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
headers=$node_prefix/include/node
ca_bundle=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
for needed in "$node_bin" "$npm_dir/bin/npm-cli.js" "$headers/node_api.h" "$ca_bundle"; do
  [ -e "$needed" ] || { echo "error: the stand-in needs $needed, which is missing" >&2; exit 1; }
done

rootfs=$(mktemp -d /tmp/savepoint-standin.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 ||
  { echo "error: debootstrap failed; see $rootfs.log" >&2; exit 1; }
rm -f "$rootfs.log"

# The real image's layout: node in /usr/local/bin, npm in /usr/local/lib/node_modules.
install -D -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules" "$rootfs/usr/local/include" "$rootfs/usr/local/etc"
cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
cp -a "$headers" "$rootfs/usr/local/include/node"
install -D -m 0644 "$ca_bundle" "$rootfs/usr/local/share/ca-certificates/standin-host-bundle.crt"
printf 'nodedir=/usr/local\ncafile=/usr/local/share/ca-certificates/standin-host-bundle.crt\n' \
  >"$rootfs/usr/local/etc/npmrc"
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
chroot "$rootfs" apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin

tar -C "$rootfs" -c . | podman import \
  --change 'ENV NODE_VERSION='"${node_version#v}" \
  --change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/standin-host-bundle.crt' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'LABEL savepoint.standin=true' \
  --change 'CMD ["node"]' \
  --quiet - "$IMAGE" >/dev/null
echo "base image: stand-in $IMAGE built ($(podman image inspect --format '{{.Size}}' "$IMAGE") bytes)"
