import {
  type AgentMode,
  type AgentProfile,
  type GuestStatus,
  type GuestType,
  LOCKS,
  type SimGuest,
  type SimNode,
} from '../model.js';
import type { Prng } from '../prng.js';
import { createGuest } from '../state/guest-record.js';
import type { PveVersion } from '../version.js';
import { OWNERS, POOLS, PURPOSES, pad2, ROLES, TAGS, WINDOWS_ROLES } from './pools.js';

export interface BuildContext {
  prng: Prng;
  vmid: number;
  node: SimNode;
  now: number;
  version: PveVersion;
  /** `meta` creation time, epoch seconds. */
  ctime: number;
  /** MAC for NIC index n. */
  mac: (nic: number) => string;
  /**
   * Random variety: odd formats, locks, HA, pools, paused and stopped guests, agents that
   * do not answer. Off for guests added at run time, which start plain and running.
   */
  variety: boolean;
}

function pickTags(ctx: BuildContext): string | undefined {
  const { prng } = ctx;
  if (!prng.chance(0.5)) return undefined;
  const chosen = [...new Set(Array.from({ length: prng.int(1, 3) }, () => prng.pick(TAGS)))].sort();
  if (!ctx.variety) return chosen.join(';');
  const separator = prng.weighted<string>([
    [';', 90],
    [',', 5],
    [' ', 5],
  ]);
  return chosen.join(separator);
}

function pickDescription(prng: Prng): string | undefined {
  if (!prng.chance(0.25)) return undefined;
  return `Owner: ${prng.pick(OWNERS)}\nPurpose: ${prng.pick(PURPOSES)}`;
}

/** `status`, and `qmpstatus` for the few paused QEMU guests. */
function pickStatus(ctx: BuildContext): { status: GuestStatus; paused: boolean } {
  if (!ctx.variety) return { status: 'running', paused: false };
  const pick = ctx.prng.weighted<GuestStatus | 'paused'>([
    ['running', 66],
    ['stopped', 32],
    ['paused', 2],
  ]);
  return pick === 'paused' ? { status: 'running', paused: true } : { status: pick, paused: false };
}

function pickAgentMode(ctx: BuildContext): AgentMode {
  if (!ctx.variety) return 'ok';
  return ctx.prng.weighted<AgentMode>([
    ['ok', 88],
    ['not-running', 7],
    ['timeout', 5],
  ]);
}

function pickProfile(ctx: BuildContext, windows: boolean): AgentProfile {
  const { prng, variety } = ctx;
  return {
    os: windows ? 'windows' : 'linux',
    noise:
      variety && !windows
        ? prng.weighted<AgentProfile['noise']>([
            ['none', 78],
            ['docker', 20],
            ['k8s', 2],
          ])
        : 'none',
    linkLocalOnly: variety && prng.chance(0.02),
    downInterface: variety && prng.chance(0.1),
    tunnel: variety && !windows && prng.chance(0.05),
    ipv6: prng.chance(0.3),
    seed: prng.int(0, 0x7fffffff),
  };
}

function qemuNet(ctx: BuildContext, index: number): string {
  const { prng } = ctx;
  const model = ctx.variety
    ? prng.weighted<string>([
        ['virtio', 85],
        ['e1000', 8],
        ['vmxnet3', 4],
        ['rtl8139', 3],
      ])
    : 'virtio';
  let out = `${model}=${ctx.mac(index)},bridge=${index === 0 ? 'vmbr0' : prng.pick(['vmbr0', 'vmbr1'])}`;
  if (prng.chance(0.6)) out += ',firewall=1';
  if (ctx.variety && prng.chance(0.1)) out += ',link_down=1';
  if (prng.chance(0.2)) out += `,tag=${prng.int(2, 4094)}`;
  return out;
}

/** A static IPv4 address for NIC `nic` of guest `vmid` and its gateway. */
export function staticV4(vmid: number, nic: number): { cidr: string; gw: string } {
  const third = (Math.floor(vmid / 250) + nic * 16) % 256;
  return { cidr: `192.168.${third}.${(vmid % 250) + 2}/24`, gw: `192.168.${third}.1` };
}

function ipConfig(vmid: number, nic: number, dhcp: boolean): string {
  if (dhcp) return 'ip=dhcp';
  const { cidr, gw } = staticV4(vmid, nic);
  return `ip=${cidr},gw=${gw}`;
}

function qemuConfig(ctx: BuildContext): Record<string, string> {
  const { prng, vmid, variety } = ctx;
  const windows = variety && prng.chance(0.1);
  const c: Record<string, string> = {};
  c.name = windows
    ? `WIN-${prng.pick(WINDOWS_ROLES)}-${pad2(prng.int(1, 40))}`
    : `${prng.pick(ROLES)}-${pad2(prng.int(1, 40))}`;
  c.cores = String(prng.pick([1, 2, 2, 4, 4, 8]));
  c.sockets = variety && prng.chance(0.05) ? '2' : '1';
  const memory = prng.weighted<number>([
    [1024, 2],
    [2048, 4],
    [4096, 5],
    [8192, 4],
    [16384, 2],
    [32768, 1],
    [65536, 0.5],
  ]);
  const memoryStyle = variety
    ? prng.weighted<'plain' | 'current' | 'absent'>([
        ['plain', 82],
        ['current', 12],
        ['absent', 6],
      ])
    : 'plain';
  if (memoryStyle === 'plain') c.memory = String(memory);
  if (memoryStyle === 'current') {
    c.memory = ctx.version.features.memoryAsString ? `current=${memory}` : String(memory);
  }
  c.ostype = windows ? 'win11' : 'l26';
  c.cpu = prng.pick(['host', 'x86-64-v2-AES']);
  c.scsihw = 'virtio-scsi-single';
  const bus = prng.weighted<string>([
    ['scsi', 7],
    ['virtio', 2],
    ['sata', 1],
  ]);
  const size = prng.weighted<string>([
    ['8G', 1],
    ['16G', 2],
    ['32G', 4],
    ['64G', 3],
    ['100G', 2],
    ['512M', 0.5],
    ['1T', 0.5],
  ]);
  c[`${bus}0`] = `local-lvm:vm-${vmid}-disk-0,${bus === 'scsi' ? 'iothread=1,' : ''}size=${size}`;
  if (prng.chance(0.15)) {
    c[`${bus}1`] = `local-zfs:vm-${vmid}-disk-1,size=${prng.pick(['200G', '500G', '1T', '2T'])}`;
  }
  const boot = [`${bus}0`];
  if (prng.chance(0.35)) {
    c.ide2 = prng.chance(0.5)
      ? 'local:iso/debian-12.7.0-amd64-netinst.iso,media=cdrom,size=631M'
      : 'none,media=cdrom';
    boot.push('ide2');
  }
  const nics = prng.weighted<number>([
    [1, 7],
    [2, 2],
    [3, 1],
  ]);
  for (let i = 0; i < nics; i++) c[`net${i}`] = qemuNet(ctx, i);
  boot.push('net0');
  c.boot = `order=${boot.join(';')}`;
  if (!windows && prng.chance(0.2)) {
    c.ide0 = `local-lvm:vm-${vmid}-cloudinit,media=cdrom,size=4M`;
    c.ciuser = 'debian';
    for (let i = 0; i < nics; i++) {
      c[`ipconfig${i}`] = ipConfig(vmid, i, prng.chance(0.5));
    }
  }
  if (windows) {
    c.bios = 'ovmf';
    c.machine = 'pc-q35-8.1';
    c.efidisk0 = `local-lvm:vm-${vmid}-disk-8,efitype=4m,pre-enrolled-keys=1,size=4M`;
    c.tpmstate0 = `local-lvm:vm-${vmid}-disk-9,size=4M,version=v2.0`;
  }
  c.smbios1 = `uuid=${prng.uuid()}`;
  c.vmgenid = prng.uuid();
  c.meta = `creation-qemu=${prng.pick(['7.2.0', '8.0.2', '8.1.5', '9.0.2'])},ctime=${ctx.ctime}`;
  const agent = variety
    ? prng.weighted<string | undefined>([
        ['1', 55],
        ['enabled=1,fstrim_cloned_disks=1', 12],
        ['1,fstrim_cloned_disks=1', 3],
        ['0', 5],
        [undefined, 25],
      ])
    : '1';
  if (agent !== undefined) c.agent = agent;
  if (prng.chance(0.5)) c.onboot = '1';
  const tags = pickTags(ctx);
  if (tags) c.tags = tags;
  const description = pickDescription(prng);
  if (description) c.description = description;
  return c;
}

function lxcConfig(ctx: BuildContext): Record<string, string> {
  const { prng, vmid } = ctx;
  const c: Record<string, string> = {
    arch: 'amd64',
    cores: String(prng.pick([1, 1, 2, 4])),
    hostname: `ct-${prng.pick(ROLES)}-${pad2(prng.int(1, 40))}`,
    memory: String(prng.pick([256, 512, 1024, 2048, 4096])),
    swap: '512',
    ostype: prng.pick(['debian', 'ubuntu', 'alpine', 'centos']),
    rootfs: `local-lvm:vm-${vmid}-disk-0,size=${prng.pick(['4G', '8G', '16G', '32G'])}`,
    unprivileged: '1',
  };
  if (prng.chance(0.5)) c.features = 'nesting=1';
  if (prng.chance(0.1)) c.mp0 = `local-lvm:vm-${vmid}-disk-1,mp=/srv/data,size=100G`;
  const address = prng.chance(0.6) ? undefined : staticV4(vmid, 0);
  const ip6 = prng.chance(0.3) ? ',ip6=auto' : '';
  c.net0 = address
    ? `name=eth0,bridge=vmbr0,firewall=1,gw=${address.gw},hwaddr=${ctx.mac(0)},ip=${address.cidr}${ip6},type=veth`
    : `name=eth0,bridge=vmbr0,firewall=1,hwaddr=${ctx.mac(0)},ip=dhcp${ip6},type=veth`;
  if (prng.chance(0.2)) {
    c.net1 = `name=eth1,bridge=vmbr1,hwaddr=${ctx.mac(1)},ip=dhcp,type=veth`;
  }
  if (prng.chance(0.4)) c.onboot = '1';
  const tags = pickTags(ctx);
  if (tags) c.tags = tags;
  const description = pickDescription(prng);
  if (description) c.description = description;
  return c;
}

/** A guest of the given type with a realistic config (see BuildContext.variety). */
export function buildGuest(type: GuestType, ctx: BuildContext): SimGuest {
  const { prng, variety, now } = ctx;
  const config = type === 'qemu' ? qemuConfig(ctx) : lxcConfig(ctx);
  const picked = pickStatus(ctx);
  let status = picked.status;
  let hastate: string | undefined;
  const oddity = variety
    ? prng.weighted<'none' | 'template' | 'lock'>([
        ['none', 96],
        ['template', 2],
        ['lock', 2],
      ])
    : 'none';
  if (oddity === 'template') {
    config.template = '1';
    status = 'stopped';
  } else if (oddity === 'lock') {
    const lock = prng.pick(LOCKS);
    config.lock = lock;
    if (lock === 'suspended') status = 'stopped';
  }
  if (variety && !config.template && prng.chance(0.06)) {
    hastate = status === 'stopped' ? 'stopped' : 'started';
  }
  const active = status !== 'stopped';
  return createGuest({
    vmid: ctx.vmid,
    type,
    node: ctx.node.name,
    status,
    qmpstatus: type === 'qemu' && status === 'running' && picked.paused ? 'paused' : undefined,
    config,
    hastate,
    pool: variety && prng.chance(0.12) ? prng.pick(POOLS) : undefined,
    agentMode: pickAgentMode(ctx),
    agentProfile: pickProfile(ctx, config.ostype?.startsWith('win') === true),
    quirks: {
      sciCounters: variety && prng.chance(0.02),
      vmidString: type === 'lxc' && prng.chance(0.5),
    },
    load: {
      cpu: prng.chance(0.05) ? 0.7 + prng.next() * 0.3 : prng.next() * 0.4,
      mem: 0.2 + prng.next() * 0.7,
      disk: 0.1 + prng.next() * 0.7,
      netRate: prng.int(1_000, 5_000_000),
      ioRate: prng.int(1_000, 20_000_000),
    },
    startedAt: active ? now - prng.int(60, 120 * 86_400) * 1000 : 0,
    createdAt: ctx.ctime * 1000,
    nameVisibleAt: 0,
    edgeCase: undefined,
  });
}
