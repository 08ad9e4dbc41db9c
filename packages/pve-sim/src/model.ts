/** The simulated cluster: nodes and guests (QEMU VMs and LXC containers). */

export type GuestType = 'qemu' | 'lxc';
export const GUEST_TYPES: readonly GuestType[] = ['qemu', 'lxc'];

/**
 * Whether the guest's process runs: all qemu-server and pve-container say in `status` on
 * `/nodes/{node}/{qemu,lxc}` and `…/status/current` (qemu-server `vmstatus`: enum
 * stopped|running). The run state of a running QEMU guest is its `qmpstatus`.
 */
export type GuestStatus = 'running' | 'stopped';
export const GUEST_STATUSES: readonly GuestStatus[] = ['running', 'stopped'];

/** How the QEMU guest agent inside a running VM behaves. */
export type AgentMode = 'ok' | 'not-running' | 'timeout';
export const AGENT_MODES: readonly AgentMode[] = ['ok', 'not-running', 'timeout'];

export const LOCKS = [
  'backup',
  'clone',
  'create',
  'migrate',
  'rollback',
  'snapshot',
  'snapshot-delete',
  'suspending',
  'suspended',
] as const;

export const HA_STATES = [
  'started',
  'stopped',
  'request_stop',
  'migrate',
  'relocate',
  'fence',
  'recovery',
  'freeze',
  'error',
] as const;

/**
 * QEMU's RunState (qemu qapi/run-state.json, `query-status`): what qemu-server reports as
 * `qmpstatus` of a running QEMU guest. A stopped guest's `qmpstatus` is `stopped`.
 */
export const QMP_STATUSES = [
  'running',
  'paused',
  'suspended',
  'prelaunch',
  'inmigrate',
  'postmigrate',
  'finish-migrate',
  'io-error',
  'internal-error',
  'guest-panicked',
  'watchdog',
  'shutdown',
  'save-vm',
  'restore-vm',
  'debug',
  'colo',
] as const;

/** What the guest agent reports besides the configured NICs. */
export interface AgentProfile {
  os: 'linux' | 'windows';
  /** Container bridges: docker0 + veths, or 50+ Calico interfaces (ee:ee:ee:ee:ee:ee). */
  noise: 'none' | 'docker' | 'k8s';
  /** Right after boot: only fe80:: addresses. */
  linkLocalOnly: boolean;
  /** The last NIC is down: listed without `ip-addresses`. */
  downInterface: boolean;
  /** A WireGuard tunnel: listed without `hardware-address`. */
  tunnel: boolean;
  /** NICs without an `ip6=` setting still get a global (SLAAC) IPv6 address. */
  ipv6: boolean;
  seed: number;
}

/** How this guest's values drift in the JSON the API returns. */
export interface GuestQuirks {
  /** Byte counters above 1e15, printed in scientific notation (3.4e+15). */
  sciCounters: boolean;
  /** On versions before 7.0, `/nodes/{node}/lxc` lists `vmid` as a string. */
  vmidString: boolean;
}

/** Per-guest base load; the live values jitter around it every 10 s. */
export interface GuestLoad {
  cpu: number;
  mem: number;
  disk: number;
  /** Bytes per second of uptime. */
  netRate: number;
  ioRate: number;
}

/** Values computed from the config, cached until the config changes. */
export interface GuestDerived {
  name: string | undefined;
  template: boolean;
  maxcpu: number;
  /** Bytes. */
  maxmem: number;
  /** Bytes: the boot disk (qemu, 0 without one) or rootfs (lxc). */
  maxdisk: number;
  maxswap: number;
  agentEnabled: boolean;
}

export interface SimGuest {
  vmid: number;
  type: GuestType;
  node: string;
  status: GuestStatus;
  /** The QEMU run state of a running QEMU guest (paused, io-error, …); undefined: `running`. */
  qmpstatus: string | undefined;
  /** The config file as key → raw value (description included), like /etc/pve. */
  config: Record<string, string>;
  /** SHA-1 of the serialised config; computed on demand, cleared when the config changes. */
  digest: string | undefined;
  derived: GuestDerived;
  hastate: string | undefined;
  pool: string | undefined;
  agentMode: AgentMode;
  agentProfile: AgentProfile;
  quirks: GuestQuirks;
  load: GuestLoad;
  /** Epoch ms when the guest last started; 0 when stopped. */
  startedAt: number;
  createdAt: number;
  /** Until this epoch ms /cluster/resources lists the guest without `name` (new VMs). */
  nameVisibleAt: number;
  /** The scenario edge case this guest was built to show, if any. */
  edgeCase: string | undefined;
}

export interface SimNode {
  name: string;
  nodeid: number;
  ip: string;
  /** The node whose API the simulator is (local: 1 in /cluster/status). */
  local: boolean;
  maxcpu: number;
  maxmem: number;
  maxdisk: number;
  bootedAt: number;
  cpuModel: string;
  sslFingerprint: string;
}
