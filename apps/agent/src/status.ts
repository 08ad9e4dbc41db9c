import { request } from 'node:http';
import { DEFAULT_HEALTH_PORT } from './config.js';
import { type AgentState, StateFile } from './state.js';

/**
 * `accountdb-agent status`: asks the running agent's /healthz on HEALTH_PORT, else reads
 * STATE_FILE. Needs no secret, so it reads only HEALTH_HOST, HEALTH_PORT and STATE_FILE.
 */

export interface StatusSource {
  healthHost: string;
  healthPort: number | undefined;
  stateFile: string | undefined;
}

export function statusSource(src: Record<string, string | undefined>): StatusSource {
  const rawPort = src.HEALTH_PORT?.trim();
  let healthPort: number | undefined = DEFAULT_HEALTH_PORT;
  if (rawPort)
    healthPort = /^\d+$/.test(rawPort) && Number(rawPort) > 0 ? Number(rawPort) : undefined;
  let healthHost = src.HEALTH_HOST?.trim() || '127.0.0.1';
  if (healthHost === '0.0.0.0') healthHost = '127.0.0.1';
  if (healthHost === '::') healthHost = '::1';
  return { healthHost, healthPort, stateFile: src.STATE_FILE?.trim() || undefined };
}

function getJson(
  host: string,
  port: number,
  path: string,
  timeoutMs: number,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: 'GET', timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
          });
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export interface StatusReport {
  source: 'healthz' | 'state_file' | 'none';
  healthy: boolean | undefined;
  state: Partial<AgentState> | undefined;
  note: string | undefined;
}

export async function readStatus(source: StatusSource): Promise<StatusReport> {
  let note: string | undefined;
  if (source.healthPort !== undefined) {
    try {
      const { status, body } = await getJson(
        source.healthHost,
        source.healthPort,
        '/healthz',
        2_000,
      );
      return {
        source: 'healthz',
        healthy: status === 200,
        state: body as Partial<AgentState>,
        note: undefined,
      };
    } catch (err) {
      note = `no answer on ${source.healthHost}:${source.healthPort} (${(err as Error).message})`;
    }
  }
  if (source.stateFile) {
    const state = new StateFile(source.stateFile).read();
    if (state) return { source: 'state_file', healthy: undefined, state, note };
    note = `${note ? `${note}; ` : ''}no state in ${source.stateFile}`;
  }
  return {
    source: 'none',
    healthy: undefined,
    state: undefined,
    note: note ?? 'HEALTH_PORT is off and STATE_FILE is not set',
  };
}

function ago(iso: string | undefined): string {
  if (!iso) return 'never';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (!Number.isFinite(s)) return iso;
  if (s < 120) return `${iso} (${s} s ago)`;
  if (s < 7200) return `${iso} (${Math.round(s / 60)} min ago)`;
  return `${iso} (${Math.round(s / 3600)} h ago)`;
}

export function formatStatus(r: StatusReport): string {
  if (!r.state) return `accountdb-agent: not running? ${r.note ?? ''}\n`;
  const s = r.state;
  const lines = [
    `accountdb-agent ${s.version ?? '?'} (pid ${s.pid ?? '?'}) — ${r.source === 'healthz' ? (r.healthy ? 'healthy' : 'UNHEALTHY') : `from the state file (${r.note ?? 'agent not answering'})`}`,
    `  node:          ${s.node ?? '?'}${s.pve_version ? ` (Proxmox VE ${s.pve_version})` : ''}`,
    `  status:        ${s.status ?? '?'}${s.consecutive_failures ? ` (${s.consecutive_failures} failed cycles in a row)` : ''}`,
    `  last success:  ${ago(s.last_success_at)}`,
    `  last cycle:    ${ago(s.last_cycle_at)} → ${s.last_outcome ?? '?'}`,
    `  guests:        ${s.guests ?? '?'}`,
    `  interval:      ${s.interval_s ?? '?'} s${s.next_cycle_at ? `, next ${s.next_cycle_at}` : ''}`,
  ];
  if (s.last_error) lines.push(`  last error:    ${s.last_error}`);
  if (s.guest_agent?.denied) lines.push(`  guest agent:   ${s.guest_agent.message ?? 'denied'}`);
  return `${lines.join('\n')}\n`;
}

/** Exit code of `status`: 0 healthy, 1 unhealthy or failing, 3 unknown (not running). */
export function statusExitCode(r: StatusReport): number {
  if (r.source === 'healthz') return r.healthy ? 0 : 1;
  if (r.source === 'state_file') {
    // The agent did not answer: the file is only good news if its last success is recent.
    const last = r.state?.last_success_at ? Date.parse(r.state.last_success_at) : Number.NaN;
    const window = Math.max(3 * (r.state?.interval_s ?? 60) * 1000, 180_000);
    return r.state?.status === 'ok' && Date.now() - last <= window ? 0 : 1;
  }
  return 3;
}
