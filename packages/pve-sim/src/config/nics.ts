import { parsePropertyString } from './property-string.js';

export const QEMU_NIC_MODELS = ['virtio', 'e1000', 'e1000e', 'vmxnet3', 'rtl8139'] as const;

export interface GuestNic {
  index: number;
  /** Upper-case MAC as written in the config. */
  mac: string;
  bridge: string | undefined;
  linkDown: boolean;
  /** LXC: the interface name inside the container (eth0). */
  name: string | undefined;
  /** LXC: `ip=` / `ip6=` (CIDR, dhcp, auto, manual). */
  ip: string | undefined;
  ip6: string | undefined;
}

const NET_KEY = /^net(\d+)$/;

function nicIndexes(config: Readonly<Record<string, string>>): number[] {
  const out: number[] = [];
  for (const key of Object.keys(config)) {
    const m = NET_KEY.exec(key);
    if (m) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}

/** The `netN` entries of a QEMU config, gaps kept (net0, net2). */
export function qemuNics(config: Readonly<Record<string, string>>): GuestNic[] {
  return nicIndexes(config).map((index) => {
    const props = parsePropertyString(config[`net${index}`] ?? '');
    let mac = '';
    for (const model of QEMU_NIC_MODELS) {
      const value = props.get(model);
      if (value !== undefined) mac = value;
    }
    if (!mac) mac = props.get('macaddr') ?? '';
    return {
      index,
      mac,
      bridge: props.get('bridge'),
      linkDown: props.get('link_down') === '1',
      name: undefined,
      ip: undefined,
      ip6: undefined,
    };
  });
}

/** The `netN` entries of an LXC config. */
export function lxcNics(config: Readonly<Record<string, string>>): GuestNic[] {
  return nicIndexes(config).map((index) => {
    const props = parsePropertyString(config[`net${index}`] ?? '');
    return {
      index,
      mac: props.get('hwaddr') ?? '',
      bridge: props.get('bridge'),
      linkDown: props.get('link_down') === '1',
      name: props.get('name') ?? `eth${index}`,
      ip: props.get('ip'),
      ip6: props.get('ip6'),
    };
  });
}

/** `ipconfigN` of a QEMU cloud-init VM: `ip=CIDR|dhcp,gw=…,ip6=CIDR|dhcp|auto,gw6=…`. */
export function qemuIpConfig(
  config: Readonly<Record<string, string>>,
  index: number,
): { ip: string | undefined; ip6: string | undefined } {
  const raw = config[`ipconfig${index}`];
  if (!raw) return { ip: undefined, ip6: undefined };
  const props = parsePropertyString(raw);
  return { ip: props.get('ip'), ip6: props.get('ip6') };
}
