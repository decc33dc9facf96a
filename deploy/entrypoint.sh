#!/bin/sh
# Starts Savepoint as the unprivileged `node` user (uid 1000) with a data directory it can write.
#
# A host directory bind-mounted on /data is often created by the engine itself (`docker compose
# up` makes ./data as root), so the image cannot rely on its own `chown` at build time. The
# container therefore starts as root, gives the data directory to `node` only when something in it
# belongs to another user, and then drops privileges for good with `setpriv`.
#
# Why setpriv: it is part of util-linux, which every Debian image already has (no gosu or su-exec
# to install), and it exec()s the command in place. `su` and `runuser` open a PAM session and stay
# as the parent process, so `docker stop`'s SIGTERM would reach them instead of Savepoint, which
# must receive it to finish in-flight commits before it exits.
#
# Started under another user already (`docker run --user 1234`), the script changes nothing and
# runs the command as that user: ownership is then the operator's choice.
set -eu

if [ "$(id -u)" = 0 ]; then
  data=${SAVEPOINT_DATA_DIR:-/data}
  mkdir -p "$data"
  # -xdev: never walk into another mount below the data directory.
  foreign=$(find "$data" -xdev ! -user node -print | head -n 1)
  if [ -n "$foreign" ]; then
    echo "entrypoint: giving $data to node (uid $(id -u node)): $foreign belonged to uid $(stat -c %u "$foreign")"
    # A read-only or root-squashed mount refuses: say so and let Savepoint report what it cannot write.
    find "$data" -xdev ! -user node -exec chown -h node:node {} + ||
      echo "entrypoint: could not change the owner of $data; Savepoint may find it unwritable" >&2
  fi
  export HOME=/home/node
  exec setpriv --reuid=node --regid=node --init-groups -- "$@"
fi
exec "$@"
