#!/bin/sh
# Entry point of the AccountDB image: `api` (default), `web`, or an `accountdb` CLI command
# (`migrate`, `create-admin`, …). Runs as the unprivileged `accountdb` user.
set -eu
case "${1:-api}" in
  api)
    exec node /app/apps/api/dist/server.js
    ;;
  web)
    exec node /app/apps/web/server/main.mjs -p "${WEB_PORT:-3000}" -H 0.0.0.0
    ;;
  *)
    exec node /app/apps/api/dist/cli.js "$@"
    ;;
esac
