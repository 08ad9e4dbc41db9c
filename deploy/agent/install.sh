#!/usr/bin/env bash
# Installs (or upgrades) the AccountDB agent on a Proxmox VE host. Idempotent: run it again
# with a newer bundle to upgrade; the settings file is never overwritten.
#
#   sudo deploy/agent/install.sh [--bundle FILE] [--no-start]
#   deploy/agent/install.sh --root DIR       # stage the files under DIR (packaging, tests):
#                                            # no user, no systemctl, no root needed
#
# The bundle is apps/agent/dist/accountdb-agent.mjs (`npm run bundle -w @accountdb/agent`), or
# accountdb-agent.mjs next to this script in a release archive. See docs/agent.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root=""
bundle=""
start=1
min_node_major=18
min_node_minor=17

usage() {
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) bundle="${2:?--bundle needs a file}"; shift 2 ;;
    --root) root="${2:?--root needs a directory}"; shift 2 ;;
    --no-start) start=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

if [ -z "$bundle" ]; then
  for candidate in "$here/accountdb-agent.mjs" "$here/../../apps/agent/dist/accountdb-agent.mjs"; do
    if [ -f "$candidate" ]; then bundle="$candidate"; break; fi
  done
fi
if [ -z "$bundle" ] || [ ! -f "$bundle" ]; then
  echo "install.sh: no agent bundle found; build it with 'npm run bundle -w @accountdb/agent' or pass --bundle FILE" >&2
  exit 1
fi

staging=0
if [ -n "$root" ]; then
  staging=1
  mkdir -p "$root"
  root="$(cd "$root" && pwd)"
elif [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (or use --root DIR to stage the files)" >&2
  exit 1
fi

prefix="$root/opt/accountdb-agent"
env_file="$root/etc/accountdb-agent.env"
unit_dir="$root/etc/systemd/system"
unit="$unit_dir/accountdb-agent.service"
dropin_dir="$unit_dir/accountdb-agent.service.d"
wrapper="$root/usr/local/bin/accountdb-agent"
service_user="accountdb-agent"

log() { printf '==> %s\n' "$*"; }

# Node.js: Debian's nodejs package is enough (18 on PVE 8, 20 on PVE 9).
if [ "$staging" -eq 0 ]; then
  if ! command -v node >/dev/null 2>&1; then
    echo "install.sh: Node.js is missing: apt-get install -y nodejs" >&2
    exit 1
  fi
  version="$(node -p 'process.versions.node')"
  major="${version%%.*}"
  rest="${version#*.}"
  minor="${rest%%.*}"
  if [ "$major" -lt "$min_node_major" ] || { [ "$major" -eq "$min_node_major" ] && [ "$minor" -lt "$min_node_minor" ]; }; then
    echo "install.sh: Node.js $version is too old; the agent needs $min_node_major.$min_node_minor or later" >&2
    exit 1
  fi
  if [ "$(command -v node)" != "/usr/bin/node" ]; then
    log "note: the unit runs /usr/bin/node; node here is $(command -v node) — adjust ExecStart with 'systemctl edit accountdb-agent' if needed"
  fi
  if ! id -u "$service_user" >/dev/null 2>&1; then
    log "creating system user $service_user"
    useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin "$service_user"
  fi
fi

log "installing $prefix/accountdb-agent.mjs"
install -d -m 0755 "$prefix" "$unit_dir" "$(dirname "$wrapper")" "$(dirname "$env_file")"
install -m 0755 "$bundle" "$prefix/accountdb-agent.mjs.new"
mv -f "$prefix/accountdb-agent.mjs.new" "$prefix/accountdb-agent.mjs"
if [ -f "$here/../../docs/agent.md" ]; then
  install -m 0644 "$here/../../docs/agent.md" "$prefix/README.md"
elif [ -f "$here/README.md" ]; then
  install -m 0644 "$here/README.md" "$prefix/README.md"
fi

log "installing $wrapper"
cat >"$wrapper.new" <<'WRAPPER'
#!/bin/sh
# accountdb-agent: reads /etc/accountdb-agent.env when run by hand (e.g. `sudo accountdb-agent check`).
if [ -z "${ACCOUNTDB_AGENT_CONFIG:-}" ] && [ -r /etc/accountdb-agent.env ]; then
  ACCOUNTDB_AGENT_CONFIG=/etc/accountdb-agent.env
  export ACCOUNTDB_AGENT_CONFIG
fi
# The service's state file (as the unit sets it): `status` and `once --accept-drop` share it.
if [ -z "${STATE_FILE:-}" ] && [ -d /var/lib/accountdb-agent ]; then
  STATE_FILE=/var/lib/accountdb-agent/state.json
  export STATE_FILE
fi
exec /usr/bin/node /opt/accountdb-agent/accountdb-agent.mjs "$@"
WRAPPER
chmod 0755 "$wrapper.new"
mv -f "$wrapper.new" "$wrapper"

if [ -e "$env_file" ]; then
  log "keeping $env_file"
  chmod 0600 "$env_file"
else
  log "writing the settings template $env_file (mode 0600)"
  (
    umask 077
    cat >"$env_file" <<'ENV'
# AccountDB agent settings (docs/agent.md). This file holds secrets: keep it mode 0600, owned by root.
# AccountDB → Proxmox nodes → the node shows a ready-to-paste version of this file.
ACCOUNTDB_URL=
ACCOUNTDB_NODE_KEY=
# A read-only Proxmox API token: PVEAuditor on / (docs/agent.md, "Proxmox token").
PVE_URL=https://127.0.0.1:8006
PVE_TOKEN_ID=accountdb@pve!sync
PVE_TOKEN_SECRET=
# TLS: on this host the cluster CA (/etc/pve/pve-root-ca.pem) is used automatically.
# Remote Proxmox: PVE_CA_FILE=/path/ca.pem, or pin the node certificate with PVE_FINGERPRINT=AA:BB:…
#PVE_CA_FILE=
#PVE_FINGERPRINT=
# Which Proxmox node to sync (default: the node named like the AccountDB node, else this one).
#PVE_NODE=
#SYNC_INTERVAL=60
#HEALTH_PORT=9587
#LOG_LEVEL=info
ENV
  )
fi
if [ "$staging" -eq 0 ]; then chown root:root "$env_file"; fi

log "installing $unit"
install -m 0644 "$here/accountdb-agent.service" "$unit.new"
mv -f "$unit.new" "$unit"

# The service user cannot read /etc/pve (root:www-data 0640): systemd passes it the public
# cluster CA as a credential, read fresh at every start.
if [ -f /etc/pve/pve-root-ca.pem ] || [ "$staging" -eq 1 ]; then
  install -d -m 0755 "$dropin_dir"
  cat >"$dropin_dir/pve-ca.conf.new" <<'DROPIN'
[Service]
LoadCredential=pve-root-ca.pem:/etc/pve/pve-root-ca.pem
DROPIN
  chmod 0644 "$dropin_dir/pve-ca.conf.new"
  mv -f "$dropin_dir/pve-ca.conf.new" "$dropin_dir/pve-ca.conf"
fi

if [ "$staging" -eq 1 ]; then
  log "staged under $root"
  exit 0
fi

systemctl daemon-reload
systemctl enable accountdb-agent.service >/dev/null
log "enabled accountdb-agent.service"

configured=1
for key in ACCOUNTDB_URL ACCOUNTDB_NODE_KEY PVE_TOKEN_SECRET; do
  if ! grep -Eq "^${key}=.+" "$env_file"; then configured=0; fi
done
if [ "$configured" -eq 0 ]; then
  cat <<NEXT

Next:
  1. Fill in $env_file (AccountDB shows the values when you add the node).
  2. Test it:   accountdb-agent check
  3. Start it:  systemctl start accountdb-agent && accountdb-agent status
NEXT
elif [ "$start" -eq 1 ]; then
  systemctl restart accountdb-agent.service
  log "restarted accountdb-agent.service; 'accountdb-agent status' shows how it is doing"
fi
