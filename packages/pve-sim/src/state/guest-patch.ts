import { SimInputError } from '../errors.js';
import {
  AGENT_MODES,
  type AgentMode,
  GUEST_STATUSES,
  type GuestStatus,
  HA_STATES,
  LOCKS,
  QMP_STATUSES,
  type SimGuest,
} from '../model.js';
import { setConfigValue } from './guest-record.js';

/**
 * A change to a guest. Config fields (name, tags, memory, cores, sockets, description,
 * lock, template, agent, onboot, config) change the config digest; status, qmpstatus,
 * node, hastate, pool and guestAgent do not. `null` removes a value.
 */
export interface GuestPatch {
  /** running or stopped (stopping clears `qmpstatus`). */
  status?: GuestStatus;
  /**
   * The QEMU run state (paused, io-error, suspended, prelaunch, inmigrate, …); setting one
   * starts a stopped QEMU guest, since only a running QEMU process has a run state. `null` or
   * `running`: plain running.
   */
  qmpstatus?: string | null;
  name?: string | null;
  /** A list is joined with `;`; a string is stored as given (old data: `,` or spaces). */
  tags?: string | readonly string[] | null;
  /** qemu: 4096 or "current=4096"; lxc: MiB. */
  memory?: number | string | null;
  cores?: number;
  sockets?: number;
  description?: string | null;
  lock?: string | null;
  template?: boolean;
  /** qemu `agent` config value: "1", "enabled=1,fstrim_cloned_disks=1", "0". */
  agent?: string | null;
  onboot?: boolean;
  /** Moves the guest (migration); the config itself is unchanged. */
  node?: string;
  hastate?: string | null;
  pool?: string | null;
  /** How the guest agent answers while the VM runs. */
  guestAgent?: AgentMode;
  /** Raw config keys: value, or null to remove. */
  config?: Readonly<Record<string, string | null>>;
}

const CONFIG_KEY = /^[a-z][a-z0-9_-]*$/;
const TAG = /^[a-z0-9_][a-z0-9_+.-]*$/i;
const DESCRIPTION_MAX = 8 * 1024;
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL = /[\x00-\x1f\x7f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: descriptions may hold newlines and tabs only
const DESCRIPTION_CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;

const bad = (message: string) => new SimInputError(400, message);

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw bad(`${field} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function line(value: unknown, field: string, max = 4096): string {
  if (typeof value !== 'string' || !value || value.length > max || CONTROL.test(value)) {
    throw bad(`${field} must be a non-empty single line of at most ${max} characters`);
  }
  return value;
}

function positiveInt(value: unknown, field: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw bad(`${field} must be an integer between 1 and ${max}`);
  }
  return value;
}

function checkDescription(value: unknown): void {
  if (
    typeof value !== 'string' ||
    Buffer.byteLength(value) > DESCRIPTION_MAX ||
    DESCRIPTION_CONTROL.test(value)
  ) {
    throw bad('description must be text of at most 8 KiB');
  }
}

function tagsValue(value: GuestPatch['tags']): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value === '' ? undefined : line(value, 'tags');
  if (!Array.isArray(value)) throw bad('tags must be a string or a list of strings');
  for (const tag of value) {
    if (typeof tag !== 'string' || !TAG.test(tag)) throw bad(`invalid tag '${String(tag)}'`);
  }
  return value.length ? value.join(';') : undefined;
}

function memoryValue(guest: SimGuest, value: number | string): string {
  if (typeof value === 'number') return String(positiveInt(value, 'memory', 16 * 1024 * 1024));
  const text = line(value, 'memory');
  if (guest.type === 'lxc' && !/^\d+$/.test(text)) throw bad('lxc memory must be an integer (MiB)');
  return text;
}

/** Checks a patch without changing anything; throws SimInputError (400) when invalid. */
export function validateGuestPatch(guest: SimGuest, patch: GuestPatch, nodes: ReadonlySet<string>) {
  if (patch.status !== undefined) oneOf(patch.status, GUEST_STATUSES, 'status');
  if (patch.qmpstatus != null) {
    oneOf(patch.qmpstatus, QMP_STATUSES, 'qmpstatus');
    if (guest.type !== 'qemu') throw bad('qmpstatus applies to qemu guests only');
    if (patch.status === 'stopped') throw bad('a stopped guest has no qmpstatus');
  }
  if (patch.name != null) line(patch.name, 'name', 128);
  tagsValue(patch.tags);
  if (patch.memory != null) memoryValue(guest, patch.memory);
  if (patch.cores !== undefined) positiveInt(patch.cores, 'cores', 512);
  if (patch.sockets !== undefined) positiveInt(patch.sockets, 'sockets', 16);
  if (patch.description != null) checkDescription(patch.description);
  if (patch.lock != null) oneOf(patch.lock, LOCKS, 'lock');
  if (patch.template !== undefined && typeof patch.template !== 'boolean') {
    throw bad('template must be a boolean');
  }
  if (patch.onboot !== undefined && typeof patch.onboot !== 'boolean') {
    throw bad('onboot must be a boolean');
  }
  if (patch.agent != null) {
    if (guest.type !== 'qemu') throw bad('agent applies to qemu guests only');
    line(patch.agent, 'agent');
  }
  if (patch.node !== undefined && !nodes.has(patch.node)) throw bad(`no node '${patch.node}'`);
  if (patch.hastate != null) oneOf(patch.hastate, HA_STATES, 'hastate');
  if (patch.pool != null) line(patch.pool, 'pool', 64);
  if (patch.guestAgent !== undefined) oneOf(patch.guestAgent, AGENT_MODES, 'guest_agent');
  if (patch.config !== undefined) {
    if (typeof patch.config !== 'object' || patch.config === null) {
      throw bad('config must be an object');
    }
    for (const [key, value] of Object.entries(patch.config)) {
      if (!CONFIG_KEY.test(key) || key === 'digest') throw bad(`invalid config key '${key}'`);
      if (value !== null && key === 'description') checkDescription(value);
      else if (value !== null) line(value, `config.${key}`);
      if (value !== null && typeof value !== 'string') throw bad(`config.${key} must be a string`);
    }
  }
  const template = patch.template ?? (patch.config?.template === '1' || guest.derived.template);
  const status = patch.status ?? (patch.qmpstatus != null ? 'running' : guest.status);
  if (template && status !== 'stopped' && patch.template !== true) {
    throw bad(`VM ${guest.vmid} is a template and cannot run`);
  }
}

/**
 * Applies a validated patch (except `node`, which the state moves); returns whether the
 * config changed.
 */
export function applyGuestPatch(guest: SimGuest, patch: GuestPatch, now: number): boolean {
  let changed = false;
  const set = (key: string, value: string | undefined) => {
    changed = setConfigValue(guest, key, value) || changed;
  };
  if (patch.name !== undefined)
    set(guest.type === 'qemu' ? 'name' : 'hostname', patch.name ?? undefined);
  if (patch.tags !== undefined) set('tags', tagsValue(patch.tags));
  if (patch.memory !== undefined) {
    set('memory', patch.memory === null ? undefined : memoryValue(guest, patch.memory));
  }
  if (patch.cores !== undefined) set('cores', String(patch.cores));
  if (patch.sockets !== undefined) set('sockets', String(patch.sockets));
  if (patch.description !== undefined) set('description', patch.description ?? undefined);
  if (patch.lock !== undefined) set('lock', patch.lock ?? undefined);
  if (patch.agent !== undefined) set('agent', patch.agent ?? undefined);
  if (patch.onboot !== undefined) set('onboot', patch.onboot ? '1' : '0');
  for (const [key, value] of Object.entries(patch.config ?? {})) set(key, value ?? undefined);
  if (patch.template !== undefined) set('template', patch.template ? '1' : undefined);
  const status = patch.template
    ? 'stopped'
    : (patch.status ?? (patch.qmpstatus != null ? 'running' : undefined));
  if (status !== undefined && status !== guest.status) {
    if (status === 'stopped') guest.startedAt = 0;
    else if (guest.status === 'stopped') guest.startedAt = now;
    guest.status = status;
    guest.qmpstatus = undefined;
  }
  if (patch.status === 'running' && patch.qmpstatus === undefined) guest.qmpstatus = undefined;
  if (patch.qmpstatus !== undefined && guest.status === 'running') {
    guest.qmpstatus = patch.qmpstatus === 'running' ? undefined : (patch.qmpstatus ?? undefined);
  }
  if (patch.hastate !== undefined) guest.hastate = patch.hastate ?? undefined;
  if (patch.pool !== undefined) guest.pool = patch.pool ?? undefined;
  if (patch.guestAgent !== undefined) guest.agentMode = patch.guestAgent;
  return changed;
}
