import { AccountDbClient, AccountDbError } from './accountdb/client.js';
import type { AgentConfig } from './accountdb/contract.js';
import { type AgentSettings, DEFAULT_CLUSTER_CA } from './config.js';
import { accountdbDispatcher, pveDispatcher } from './net/tls.js';
import { PveClient } from './pve/client.js';
import { explainPveError, PveError } from './pve/errors.js';
import { selectIps } from './pve/ip-select.js';
import { majorVersion, parseClusterStatus, parseVersion } from './pve/parse-cluster.js';
import { parseQemuConfig } from './pve/parse-config.js';
import { parseAgentInterfaces, parseLxcInterfaces } from './pve/parse-interfaces.js';
import { parseClusterResources } from './pve/parse-resources.js';
import { resolveNodeName } from './sync/engine.js';
import { AGENT_VERSION } from './version.js';

/**
 * `accountdb-agent check`: tests both connections and the token's privileges and says what
 * is wrong and how to fix it. Read-only: it sends no sync and no heartbeat.
 */

export type CheckLevel = 'ok' | 'warn' | 'fail' | 'info';

export interface CheckLine {
  level: CheckLevel;
  what: string;
  fix?: string;
}

/** `pveum acl modify / …` granting `role` to the token and its user (privilege separation: both need it). */
export function aclCommand(settings: AgentSettings, role: string): string {
  const user = settings.pveTokenId.split('!')[0] ?? settings.pveTokenId;
  return `\`pveum acl modify / --users ${user} --tokens '${settings.pveTokenId}' --roles ${role}\``;
}

function pveFix(err: PveError, settings: AgentSettings): string {
  switch (err.kind) {
    case 'auth':
      return `check PVE_TOKEN_ID (USER@REALM!TOKEN) and PVE_TOKEN_SECRET; list tokens with \`pveum user token list ${settings.pveTokenId.split('!')[0]}\``;
    case 'permission':
      return `give the token read access: ${aclCommand(settings, 'PVEAuditor')}`;
    case 'tls':
      return settings.pveTls.mode === 'fingerprint'
        ? "the certificate changed or PVE_FINGERPRINT is wrong: compare with `pvenode cert info` (the node's pve-ssl.pem / pveproxy-ssl.pem) or the ssl_fingerprint in `pvesh get /nodes`"
        : `on the Proxmox host set PVE_CA_FILE=${DEFAULT_CLUSTER_CA}; remotely pin the node's certificate with PVE_FINGERPRINT (from \`pvenode cert info\`)`;
    case 'network':
    case 'timeout':
      return `check PVE_URL (${settings.pveUrl}) and that pveproxy runs: \`systemctl status pveproxy\``;
    case 'bad_response':
      return 'PVE_URL does not reach the Proxmox API (a reverse proxy or another service answered); use https://HOST:8006';
    case 'unreachable':
      return 'the node is down or cut off from the cluster; check `pvecm status`';
    default:
      return 'see docs/agent.md, "Troubleshooting"';
  }
}

function adbFix(err: AccountDbError, settings: AgentSettings): string {
  switch (err.kind) {
    case 'auth':
      return 'copy the node key from AccountDB (Proxmox nodes → the node → rotate key) into ACCOUNTDB_NODE_KEY';
    case 'unavailable':
      return `check ACCOUNTDB_URL (${settings.accountdbUrl}), DNS and firewalls between this host and AccountDB`;
    default:
      return 'ACCOUNTDB_URL should be the address of the AccountDB web UI or API, e.g. https://accountdb.example.com';
  }
}

function has(
  perms: Record<string, Record<string, unknown>>,
  privilege: string,
  paths: string[],
): boolean {
  return paths.some((p) => {
    const v = perms[p]?.[privilege];
    return v === 1 || v === true || v === '1';
  });
}

export async function runChecks(settings: AgentSettings): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  const add = (level: CheckLevel, what: string, fix?: string) =>
    lines.push(fix ? { level, what, fix } : { level, what });
  add('info', `accountdb-agent ${AGENT_VERSION}`);

  const adbHttp = accountdbDispatcher(settings.accountdbCa);
  const pveHttp = pveDispatcher(settings.pveTls);
  try {
    let config: AgentConfig | undefined;
    try {
      const accountdb = new AccountDbClient({
        baseUrl: settings.accountdbUrl,
        nodeKey: settings.nodeKey,
        dispatcher: adbHttp,
      });
      const answer = await accountdb.getConfig();
      if (answer.changed) config = answer.config;
      add(
        'ok',
        `AccountDB ${settings.accountdbUrl}: node "${config?.name}" (sync ${config?.sync_mode}${config?.sync_mode === 'whitelist' ? ` of ${config.whitelist.length} VMIDs` : ''}, every ${config?.interval_s} s)`,
      );
    } catch (err) {
      if (!(err instanceof AccountDbError)) throw err;
      add('fail', `AccountDB ${settings.accountdbUrl}: ${err.message}`, adbFix(err, settings));
    }

    if (settings.pveTls.mode === 'insecure') {
      add(
        'warn',
        'PVE_INSECURE=true: the Proxmox certificate is not verified',
        `use PVE_CA_FILE=${DEFAULT_CLUSTER_CA} on the host, or PVE_FINGERPRINT`,
      );
    }
    const pve = new PveClient({
      baseUrl: settings.pveUrl,
      tokenId: settings.pveTokenId,
      tokenSecret: settings.pveTokenSecret,
      dispatcher: pveHttp,
    });
    const step = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof PveError)) throw err;
        add('fail', `${what}: ${explainPveError(err)}`, pveFix(err, settings));
        return undefined;
      }
    };

    const version = await step('Proxmox /version', async () =>
      parseVersion(await pve.get('/version')),
    );
    if (
      version === undefined &&
      lines.some((l) => l.level === 'fail' && l.what.startsWith('Proxmox'))
    )
      return lines;
    const tls =
      settings.pveTls.mode === 'ca' ? `CA ${settings.pveTls.caFile}` : settings.pveTls.mode;
    add(
      'ok',
      `Proxmox VE ${version ?? '(version unknown)'} at ${settings.pveUrl} (TLS: ${tls}), token ${settings.pveTokenId}`,
    );

    const status = await step('Proxmox /cluster/status', async () =>
      parseClusterStatus(await pve.get('/cluster/status')),
    );
    let node: string | undefined;
    if (status) {
      try {
        node = resolveNodeName(status, settings.pveNode, config?.name);
        const entry = status.nodes.find((n) => n.name === node);
        if (!status.quorate)
          add(
            'fail',
            `cluster "${status.cluster}" is not quorate`,
            'check `pvecm status`; the agent does not sync without quorum',
          );
        if (!entry?.online)
          add('fail', `node "${node}" is offline`, 'the agent syncs only while its node is online');
        else
          add(
            'ok',
            `node "${node}" online${status.cluster ? ` in cluster "${status.cluster}" (quorate)` : ' (standalone)'}`,
          );
        if (config && config.name !== node) {
          add(
            'warn',
            `AccountDB calls this node "${config.name}" but the agent syncs Proxmox node "${node}"`,
            'set PVE_NODE or rename the node in AccountDB if that is not intended',
          );
        }
      } catch (err) {
        if (!(err instanceof PveError)) throw err;
        add('fail', err.message, 'set PVE_NODE to one of the listed node names');
      }
    }

    const guestPrivilege = (majorVersion(version) ?? 8) >= 9 ? 'VM.GuestAgent.Audit' : 'VM.Monitor';
    try {
      const perms = (await pve.get('/access/permissions')) as Record<
        string,
        Record<string, unknown>
      > | null;
      if (perms && typeof perms === 'object') {
        for (const [priv, paths] of [
          ['Sys.Audit', ['/', '/nodes']],
          ['VM.Audit', ['/', '/vms']],
        ] as const) {
          if (has(perms, priv, [...paths])) add('ok', `token has ${priv}`);
          else add('fail', `token lacks ${priv} on /`, aclCommand(settings, 'PVEAuditor'));
        }
        if (has(perms, guestPrivilege, ['/', '/vms']))
          add('ok', `token has ${guestPrivilege} (guest-agent IP addresses)`);
        else
          add(
            'warn',
            `token lacks ${guestPrivilege}: VM IP addresses from the guest agent will be missing`,
            `\`pveum role add AccountDBGuestAgent --privs ${guestPrivilege}\`, then ${aclCommand(settings, 'AccountDBGuestAgent')}`,
          );
      }
    } catch (err) {
      add(
        'info',
        `could not read /access/permissions (${(err as Error).message}); privileges are tested by the calls below`,
      );
    }

    const listing = await step('Proxmox /cluster/resources', async () =>
      parseClusterResources(await pve.get('/cluster/resources?type=vm')),
    );
    if (listing && node) {
      const ours = listing.guests.filter((g) => g.node === node);
      if (ours.length === 0) {
        add(
          'warn',
          `no guest visible on node "${node}" (${listing.guests.length} in the cluster)`,
          'if the node has VMs, the token may not audit them: grant PVEAuditor on / (not on a pool or a single VM)',
        );
      } else {
        add(
          'ok',
          `${ours.length} guests on node "${node}" (${ours.filter((g) => g.type === 'qemu').length} VMs, ${ours.filter((g) => g.type === 'lxc').length} containers)`,
        );
      }
      const running = ours
        .filter((g) => g.type === 'qemu' && g.status === 'running' && !g.template)
        .slice(0, 10);
      let probed = false;
      for (const g of running) {
        const cfg = await step(`config of VM ${g.vmid}`, async () =>
          parseQemuConfig(
            await pve.get(`/nodes/${encodeURIComponent(node)}/qemu/${g.vmid}/config`),
          ),
        );
        if (!cfg) break;
        if (!cfg.agentEnabled) continue;
        probed = true;
        try {
          const data = await pve.get(
            `/nodes/${encodeURIComponent(node)}/qemu/${g.vmid}/agent/network-get-interfaces`,
            { timeoutMs: 10_000 },
          );
          add(
            'ok',
            `guest agent of VM ${g.vmid} answers (${selectIps(parseAgentInterfaces(data)).join(', ') || 'no routable address yet'})`,
          );
        } catch (err) {
          if (!(err instanceof PveError)) throw err;
          if (err.kind === 'permission') {
            add(
              'fail',
              `guest-agent read refused for VM ${g.vmid}: ${err.message}`,
              `grant ${guestPrivilege} (see above and docs/agent.md)`,
            );
          } else {
            add(
              'warn',
              `guest agent of VM ${g.vmid}: ${err.message}`,
              'install and start qemu-guest-agent in the VM (the agent retries with backoff meanwhile)',
            );
          }
        }
        break;
      }
      if (!probed && running.length > 0)
        add('info', 'no running VM with the guest agent enabled to probe');
      const ct = ours.find((g) => g.type === 'lxc' && g.status === 'running');
      if (ct) {
        try {
          const data = await pve.get(
            `/nodes/${encodeURIComponent(node)}/lxc/${ct.vmid}/interfaces`,
          );
          add(
            'ok',
            `container ${ct.vmid} interfaces readable (${selectIps(parseLxcInterfaces(data)).join(', ') || 'no routable address'})`,
          );
        } catch (err) {
          if (!(err instanceof PveError)) throw err;
          if (err.kind === 'not_implemented')
            add(
              'info',
              'this Proxmox version has no container interfaces endpoint: static ip= from the config is used',
            );
          else add('warn', `container ${ct.vmid} interfaces: ${err.message}`);
        }
      }
    }
    return lines;
  } finally {
    await Promise.allSettled([adbHttp.close(), pveHttp.close()]);
  }
}

export function formatChecks(lines: CheckLine[]): string {
  const tag: Record<CheckLevel, string> = {
    ok: '  ok  ',
    warn: '  warn',
    fail: '  FAIL',
    info: '  ·   ',
  };
  const out: string[] = [];
  for (const l of lines) {
    out.push(`${tag[l.level]} ${l.what}`);
    if (l.fix) out.push(`         fix: ${l.fix}`);
  }
  const fails = lines.filter((l) => l.level === 'fail').length;
  const warns = lines.filter((l) => l.level === 'warn').length;
  out.push(
    '',
    fails === 0
      ? `All checks passed${warns ? ` (${warns} warning${warns > 1 ? 's' : ''})` : ''}.`
      : `${fails} problem${fails > 1 ? 's' : ''} found.`,
  );
  return `${out.join('\n')}\n`;
}
