import { isQemuDiskKey } from '../config/derive.js';
import type { AgentProfile, GuestType, SimGuest } from '../model.js';
import { refreshGuest } from '../state/guest-record.js';
import type { PveVersion } from '../version.js';
import { staticV4 } from './build-guest.js';

export interface EdgeContext {
  now: number;
  nameDelayMs: number;
  version: PveVersion;
  /** Edge-case guests placed so far, by edge-case name. */
  featured: ReadonlyMap<string, SimGuest>;
  mac: (nic: number) => string;
  legacyMac: (nic: number) => string;
}

export interface EdgeCase {
  name: string;
  type: GuestType;
  /** Turns a plain running guest into the edge case. */
  apply(guest: SimGuest, ctx: EdgeContext): void;
}

const HOUR_MS = 3_600_000;

function run(g: SimGuest, ctx: EdgeContext): void {
  g.status = 'running';
  g.qmpstatus = undefined;
  if (!g.startedAt) g.startedAt = ctx.now - 72 * HOUR_MS;
}

function stop(g: SimGuest): void {
  g.status = 'stopped';
  g.qmpstatus = undefined;
  g.startedAt = 0;
}

function profile(g: SimGuest, changes: Partial<AgentProfile>): void {
  g.agentProfile = {
    ...g.agentProfile,
    os: 'linux',
    noise: 'none',
    linkLocalOnly: false,
    downInterface: false,
    tunnel: false,
    ipv6: false,
    ...changes,
  };
}

function setNets(g: SimGuest, nets: Record<number, string>): void {
  for (const key of Object.keys(g.config)) {
    if (/^(?:net|ipconfig)\d+$/.test(key)) delete g.config[key];
  }
  for (const [index, value] of Object.entries(nets)) g.config[`net${index}`] = value;
}

function setDisks(g: SimGuest, disks: Record<string, string>, boot: string): void {
  for (const key of Object.keys(g.config)) {
    if (isQemuDiskKey(key)) delete g.config[key];
  }
  Object.assign(g.config, disks);
  g.config.boot = `order=${boot}`;
}

/** LXC `netN` in Proxmox's key order; `gateways` and `ips` are `key=value` lists. */
function lxcNet(index: number, mac: string, gateways: string, ips: string): string {
  const gw = gateways ? `${gateways},` : '';
  return `name=eth${index},bridge=vmbr${index},${gw}hwaddr=${mac},${ips},type=veth`;
}

const base64 = (text: string) => Buffer.from(text).toString('base64');

function longDescription(vmid: number): string {
  const lines = [`# VM ${vmid} runbook`, '', 'Ünïcödé ✓ — owner: ops'];
  for (let i = 1; Buffer.byteLength(lines.join('\n')) < 7900; i++) {
    lines.push(`${String(i).padStart(3, '0')}. step: check service, rotate logs, verify backup`);
  }
  return lines.join('\n').slice(0, 7990);
}

/**
 * The edge cases of PROXMOX.md, most important first. A scenario places each on its own
 * guest while there are guests left (29 guests show them all).
 */
export const EDGE_CASES: readonly EdgeCase[] = [
  {
    name: 'agent-rich',
    type: 'qemu',
    apply(g, ctx) {
      run(g, ctx);
      g.config.agent = '1';
      g.config.tags = 'prod;web';
      setNets(g, {
        0: `virtio=${ctx.mac(0)},bridge=vmbr0,firewall=1`,
        2: `virtio=${ctx.mac(2)},bridge=vmbr1,tag=20`,
      });
      profile(g, { noise: 'docker', downInterface: true, tunnel: true, ipv6: true });
      g.agentMode = 'ok';
    },
  },
  {
    name: 'template',
    type: 'qemu',
    apply(g) {
      stop(g);
      g.config.template = '1';
      g.config.name = 'tpl-debian-12';
      g.config.agent = '1';
    },
  },
  {
    name: 'agent-not-running',
    type: 'qemu',
    apply(g, ctx) {
      run(g, ctx);
      g.config.agent = 'enabled=1,fstrim_cloned_disks=1';
      g.config.memory = ctx.version.features.memoryAsString ? 'current=4096' : '4096';
      g.agentMode = 'not-running';
    },
  },
  {
    name: 'agent-timeout',
    type: 'qemu',
    apply(g, ctx) {
      run(g, ctx);
      g.config.agent = '1,fstrim_cloned_disks=1';
      g.agentMode = 'timeout';
    },
  },
  {
    name: 'paused',
    type: 'qemu',
    apply(g, ctx) {
      run(g, ctx);
      g.qmpstatus = 'paused';
    },
  },
  {
    name: 'locked-backup',
    type: 'qemu',
    apply(g, ctx) {
      run(g, ctx);
      g.config.lock = 'backup';
      g.hastate = 'started';
      g.pool = 'customers';
    },
  },
  {
    name: 'nameless',
    type: 'qemu',
    apply(g, ctx) {
      run(g, ctx);
      delete g.config.name;
      delete g.config.agent;
      g.config.tags = 'Windows,Prod';
    },
  },
  {
    name: 'lxc-ipv6',
    type: 'lxc',
    apply(g, ctx) {
      run(g, ctx);
      const host = (g.vmid % 250) + 2;
      setNets(g, {
        0: lxcNet(
          0,
          ctx.mac(0),
          'gw=192.168.50.1,gw6=2001:db8:50::1',
          `ip=192.168.50.${host}/24,ip6=2001:db8:50::${host.toString(16)}/64`,
        ),
        1: lxcNet(1, ctx.mac(1), '', 'ip=dhcp,ip6=auto'),
      });
      g.config.tags = 'dev lxc';
      g.quirks.vmidString = true;
    },
  },
  {
    name: 'hibernated',
    type: 'qemu',
    apply(g) {
      stop(g);
      g.config.lock = 'suspended';
      g.config.agent = '1';
    },
  },
  {
    name: 'fresh-link-local',
    type: 'qemu',
    apply(g, ctx) {
      run(g, ctx);
      g.startedAt = ctx.now - 20_000;
      g.nameVisibleAt = ctx.now + ctx.nameDelayMs;
      g.config.onboot = '1';
      delete g.config.memory;
      profile(g, { linkLocalOnly: true });
    },
  },
  {
    name: 'many-interfaces',
    type: 'qemu',
    apply(g, ctx) {
      run(g, ctx);
      g.config.memory = '65536';
      setDisks(g, { scsi0: `local-lvm:vm-${g.vmid}-disk-0,iothread=1,size=1T` }, 'scsi0;net0');
      g.quirks.sciCounters = true;
      profile(g, { noise: 'k8s', ipv6: true });
    },
  },
  {
    name: 'lxc-nameless-stopped',
    type: 'lxc',
    apply(g) {
      stop(g);
      delete g.config.hostname;
    },
  },
  {
    name: 'lxc-template',
    type: 'lxc',
    apply(g) {
      stop(g);
      g.config.template = '1';
      g.config.hostname = 'tpl-debian-12-ct';
    },
  },
  {
    name: 'diskless',
    type: 'qemu',
    apply(g) {
      stop(g);
      setDisks(g, { ide2: 'none,media=cdrom' }, 'ide2;net0');
      delete g.config.memory;
    },
  },
  {
    name: 'cloudinit',
    type: 'qemu',
    apply(g, ctx) {
      run(g, ctx);
      setDisks(
        g,
        {
          scsi0: `local-lvm:vm-${g.vmid}-disk-0,iothread=1,size=512M`,
          scsi1: `local-zfs:vm-${g.vmid}-disk-1,size=1T`,
          ide2: `local-lvm:vm-${g.vmid}-cloudinit,media=cdrom,size=4M`,
        },
        'scsi0;net0',
      );
      setNets(g, {
        0: `virtio=${ctx.mac(0)},bridge=vmbr0,firewall=1`,
        1: `virtio=${ctx.mac(1)},bridge=vmbr1`,
      });
      const { cidr, gw } = staticV4(g.vmid, 0);
      g.config.ipconfig0 = `ip=${cidr},gw=${gw},ip6=2001:db8:1::${g.vmid.toString(16)}/64,gw6=2001:db8:1::1`;
      g.config.ipconfig1 = 'ip=dhcp,ip6=auto';
      g.config.ciuser = 'debian';
    },
  },
  {
    name: 'migrating',
    type: 'qemu',
    apply(g, ctx) {
      run(g, ctx);
      g.config.lock = 'migrate';
      g.hastate = 'migrate';
    },
  },
  {
    name: 'duplicate-name',
    type: 'qemu',
    apply(g, ctx) {
      stop(g);
      g.config.name = ctx.featured.get('agent-rich')?.config.name ?? 'web-01';
    },
  },
  {
    name: 'windows',
    type: 'qemu',
    apply(g, ctx) {
      run(g, ctx);
      const uuid = /uuid=([0-9a-f-]+)/.exec(g.config.smbios1 ?? '')?.[1] ?? '';
      Object.assign(g.config, {
        name: 'WIN-RDP-01',
        ostype: 'win11',
        bios: 'ovmf',
        machine: 'pc-q35-8.1',
        efidisk0: `local-lvm:vm-${g.vmid}-disk-8,efitype=4m,pre-enrolled-keys=1,size=4M`,
        tpmstate0: `local-lvm:vm-${g.vmid}-disk-9,size=4M,version=v2.0`,
        smbios1: `base64=1,manufacturer=${base64('Dell Inc.')},product=${base64('PowerEdge R650')},serial=${base64(`SN${g.vmid}`)},uuid=${uuid}`,
        agent: '1',
      });
      profile(g, { os: 'windows' });
    },
  },
  {
    name: 'io-error',
    type: 'qemu',
    apply(g, ctx) {
      run(g, ctx);
      g.qmpstatus = 'io-error';
    },
  },
  {
    name: 'ha-error',
    type: 'qemu',
    apply(g) {
      stop(g);
      g.hastate = 'error';
    },
  },
  {
    name: 'agent-disabled',
    type: 'qemu',
    apply(g, ctx) {
      run(g, ctx);
      g.config.agent = 'enabled=0';
    },
  },
  {
    name: 'long-description',
    type: 'qemu',
    apply(g) {
      stop(g);
      g.config.description = longDescription(g.vmid);
    },
  },
  {
    name: 'legacy-mac',
    type: 'qemu',
    apply(g, ctx) {
      run(g, ctx);
      setNets(g, {
        0: `e1000=${ctx.legacyMac(0)},bridge=vmbr0`,
        1: `virtio=${ctx.legacyMac(1)},bridge=vmbr0,link_down=1`,
      });
    },
  },
  ...(
    [
      // Each QEMU run state Proxmox reports as qmpstatus (and in /cluster/resources) once.
      ['suspended', 'suspended'],
      ['prelaunch', 'prelaunch'],
      ['inmigrate', 'inmigrate'],
      ['postmigrate', 'postmigrate'],
      ['internal-error', 'internal-error'],
      ['guest-panicked', 'guest-panicked'],
    ] as const
  ).map(
    ([name, qmpstatus]): EdgeCase => ({
      name,
      type: 'qemu',
      apply(g, ctx) {
        run(g, ctx);
        g.qmpstatus = qmpstatus;
      },
    }),
  ),
];

export const EDGE_CASE_NAMES: readonly string[] = EDGE_CASES.map((e) => e.name);

export function applyEdgeCase(edge: EdgeCase, guest: SimGuest, ctx: EdgeContext): SimGuest {
  edge.apply(guest, ctx);
  guest.edgeCase = edge.name;
  refreshGuest(guest);
  return guest;
}
