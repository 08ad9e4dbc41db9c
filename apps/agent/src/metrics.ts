/**
 * A small Prometheus registry (text exposition format 0.0.4) for /metrics: counters and
 * gauges with labels. Label sets stay small and bounded (endpoints are templated paths,
 * kinds are enums), so memory does not grow with the number of guests.
 */

type Labels = Record<string, string>;

interface Family {
  type: 'counter' | 'gauge';
  help: string;
  values: Map<string, { labels: Labels; value: number }>;
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export class Metrics {
  private readonly families = new Map<string, Family>();

  private family(name: string, type: Family['type'], help: string): Family {
    let f = this.families.get(name);
    if (!f) {
      f = { type, help, values: new Map() };
      this.families.set(name, f);
    }
    return f;
  }

  /** Declares a metric so it shows (at 0) before its first event. */
  declare(name: string, type: Family['type'], help: string): void {
    this.family(name, type, help);
  }

  inc(name: string, labels: Labels = {}, by = 1, help = ''): void {
    const f = this.family(name, 'counter', help);
    const key = labelKey(labels);
    const cur = f.values.get(key);
    if (cur) cur.value += by;
    else f.values.set(key, { labels, value: by });
  }

  set(name: string, value: number, labels: Labels = {}, help = ''): void {
    const f = this.family(name, 'gauge', help);
    f.values.set(labelKey(labels), { labels, value });
  }

  /** The current value (tests, /healthz). */
  get(name: string, labels: Labels = {}): number | undefined {
    return this.families.get(name)?.values.get(labelKey(labels))?.value;
  }

  /** Sum over all label sets of a metric. */
  sum(name: string): number {
    let total = 0;
    for (const v of this.families.get(name)?.values.values() ?? []) total += v.value;
    return total;
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, f] of [...this.families.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      if (f.help) lines.push(`# HELP ${name} ${f.help}`);
      lines.push(`# TYPE ${name} ${f.type}`);
      for (const { labels, value } of f.values.values()) {
        const keys = Object.keys(labels).sort();
        const l = keys.length
          ? `{${keys.map((k) => `${k}="${escapeLabel(labels[k] as string)}"`).join(',')}}`
          : '';
        lines.push(`${name}${l} ${Number.isFinite(value) ? value : 0}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}

/** The agent's metric names, declared with help text. */
export function agentMetrics(): Metrics {
  const m = new Metrics();
  m.declare('accountdb_agent_cycles_total', 'counter', 'Sync cycles by outcome');
  m.declare('accountdb_agent_failures_total', 'counter', 'Failed cycles by error kind');
  m.declare(
    'accountdb_agent_last_success_timestamp_seconds',
    'gauge',
    'Unix time of the last successful sync',
  );
  m.declare(
    'accountdb_agent_pve_requests_total',
    'counter',
    'Proxmox API calls by endpoint and result',
  );
  m.declare(
    'accountdb_agent_accountdb_requests_total',
    'counter',
    'AccountDB API calls by endpoint and result',
  );
  m.declare('accountdb_agent_guests', 'gauge', 'Guests of the node seen in the last listing');
  m.declare(
    'accountdb_agent_config_reads_total',
    'counter',
    'Guest config reads by result (changed, unchanged, error)',
  );
  m.declare('accountdb_agent_guest_agent_calls_total', 'counter', 'Guest address reads by result');
  m.declare('accountdb_agent_sync_duration_seconds', 'gauge', 'Duration of the last sync cycle');
  m.declare(
    'accountdb_agent_backoff_seconds',
    'gauge',
    'Current wait before retrying AccountDB (0 when reachable)',
  );
  return m;
}
