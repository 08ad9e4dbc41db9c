import { chownSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** What the agent reports on /healthz, in the state file and through `status`. */
export interface AgentState {
  version: string;
  pid: number;
  status: 'starting' | 'ok' | 'error';
  node: string | undefined;
  pve_version: string | undefined;
  interval_s: number;
  updated_at: string;
  last_cycle_at: string | undefined;
  last_success_at: string | undefined;
  last_outcome: string | undefined;
  last_error: string | undefined;
  consecutive_failures: number;
  guests: number | undefined;
  /** Guests in the last successful complete sync: the collapse check's reference. */
  baseline_guests: number | undefined;
  last_result: Record<string, unknown> | undefined;
  next_cycle_at: string | undefined;
  guest_agent: { denied: boolean; message: string | undefined };
}

/** The state file: JSON written atomically (temp file + rename), mode 0600. */
export class StateFile {
  constructor(readonly path: string) {}

  read(): AgentState | undefined {
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as unknown;
      return parsed && typeof parsed === 'object' ? (parsed as AgentState) : undefined;
    } catch {
      return undefined;
    }
  }

  write(state: AgentState): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    // `sudo accountdb-agent once …` beside the service: keep the file the service user's.
    if (process.getuid?.() === 0) {
      const owner = statSync(dirname(this.path));
      if (owner.uid !== 0) chownSync(tmp, owner.uid, owner.gid);
    }
    renameSync(tmp, this.path);
  }
}
