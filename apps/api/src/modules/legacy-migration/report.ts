/** What `accountdb migrate-legacy` did, per earlier table, and the node keys it issued. */

export const REPORT_TABLES = [
  'users',
  'nodes',
  'accounts',
  'vms',
  'hardware',
  'cards',
  'whitelist',
] as const;
export type ReportTable = (typeof REPORT_TABLES)[number];

/** Reasons listed per table; every one is counted. */
export const LISTED_REASONS = 20;

export interface TableReport {
  read: number;
  created: number;
  updated: number;
  /** Already there from an earlier run (or, for users, the same user already in AccountDB). */
  unchanged: number;
  skipped: number;
  /** The first skipped rows and why (earlier id and reason); `skipped` counts them all. */
  reasons: Array<{ id: string; reason: string }>;
  /** Written, with something worth knowing (a placeholder e-mail, a link left out). */
  notes: Array<{ id: string; note: string }>;
  notes_total: number;
}

export interface NodeKey {
  owner: string;
  node: string;
  node_id: string;
  api_key: string;
  agent_config: string;
}

export interface MigrationReport {
  dry_run: boolean;
  tables: Partial<Record<ReportTable, TableReport>>;
  /** Keys of the nodes this run created: shown once, here. */
  node_keys: NodeKey[];
  /** Nodes an earlier run created: their keys were shown then. */
  nodes_existing: number;
  /** Set when the run stopped on an unexpected failure: why. The counts are what was written. */
  stopped?: string;
}

export function newReport(dryRun: boolean): MigrationReport {
  return { dry_run: dryRun, tables: {}, node_keys: [], nodes_existing: 0 };
}

/** An empty table report. */
export function tableReportOf(): TableReport {
  return {
    read: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    skipped: 0,
    reasons: [],
    notes: [],
    notes_total: 0,
  };
}

export function tableReport(report: MigrationReport, table: ReportTable): TableReport {
  let t = report.tables[table];
  if (!t) {
    t = tableReportOf();
    report.tables[table] = t;
  }
  return t;
}

/** Adds what a committed batch did (its own report) to its table's report. */
export function mergeTableReport(into: TableReport, from: TableReport): void {
  into.read += from.read;
  into.created += from.created;
  into.updated += from.updated;
  into.unchanged += from.unchanged;
  into.skipped += from.skipped;
  into.notes_total += from.notes_total;
  for (const r of from.reasons) if (into.reasons.length < LISTED_REASONS) into.reasons.push(r);
  for (const n of from.notes) if (into.notes.length < LISTED_REASONS) into.notes.push(n);
}

export function skip(t: TableReport, id: unknown, reason: string): void {
  t.skipped++;
  if (t.reasons.length < LISTED_REASONS) t.reasons.push({ id: String(id), reason });
}

export function note(t: TableReport, id: unknown, text: string): void {
  t.notes_total++;
  if (t.notes.length < LISTED_REASONS) t.notes.push({ id: String(id), note: text });
}

/** The report for people: a line per table, the reasons, then the node keys. */
export function formatReport(report: MigrationReport): string {
  const lines: string[] = [];
  lines.push(
    report.stopped
      ? `Migration STOPPED: ${report.stopped}. The owner batch it was writing was rolled back; what is below was written. Fix the cause and run it again: it continues where it stopped.`
      : report.dry_run
        ? 'DRY RUN: everything below was done and rolled back; nothing was written.'
        : 'Migration done.',
  );
  lines.push('');
  lines.push('table        read  created  updated  unchanged  skipped');
  for (const name of REPORT_TABLES) {
    const t = report.tables[name];
    if (!t) continue;
    const n = (v: number, w: number) => String(v).padStart(w);
    lines.push(
      `${name.padEnd(10)} ${n(t.read, 6)} ${n(t.created, 8)} ${n(t.updated, 8)} ${n(t.unchanged, 10)} ${n(t.skipped, 8)}`,
    );
  }
  for (const name of REPORT_TABLES) {
    const t = report.tables[name];
    if (!t) continue;
    if (t.skipped > 0) {
      lines.push('', `${name}: skipped`);
      for (const r of t.reasons) lines.push(`  ${name} ${r.id}: ${r.reason}`);
      if (t.skipped > t.reasons.length) lines.push(`  … and ${t.skipped - t.reasons.length} more`);
    }
    if (t.notes_total > 0) {
      lines.push('', `${name}: notes`);
      for (const r of t.notes) lines.push(`  ${name} ${r.id}: ${r.note}`);
      if (t.notes_total > t.notes.length)
        lines.push(`  … and ${t.notes_total - t.notes.length} more`);
    }
  }
  if (report.node_keys.length > 0) {
    lines.push(
      '',
      report.dry_run
        ? 'Node agent keys (dry run: these keys were rolled back and do not work):'
        : 'Node agent keys, shown this once (the earlier plain-text keys are not carried over).',
      'Put each into the agent configuration on its Proxmox host (/etc/accountdb-agent.env):',
    );
    for (const k of report.node_keys) {
      lines.push('', `## node ${k.node} of ${k.owner} (${k.node_id})`, k.agent_config.trimEnd());
    }
  }
  if (report.nodes_existing > 0) {
    lines.push(
      '',
      `${report.nodes_existing} node(s) were migrated by an earlier run: their agent keys were shown then. ` +
        'A lost key is replaced with POST /api/v1/proxmox-nodes/{id}/rotate-key (or "Rotate key" in the web UI).',
    );
  }
  return lines.join('\n');
}
