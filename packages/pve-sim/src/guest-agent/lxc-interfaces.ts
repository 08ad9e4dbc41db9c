import { lxcNics } from '../config/nics.js';
import type { SimGuest } from '../model.js';
import type { VersionFeatures } from '../version.js';
import { type Cidr, linkLocalV6, resolveV4, resolveV6 } from './addresses.js';

/** One entry of `/nodes/{node}/lxc/{vmid}/interfaces`. */
export interface LxcInterface {
  name: string;
  hwaddr: string;
  /** The same MAC again, from 8.4 (pve-container 5.2.4). */
  'hardware-address'?: string;
  inet?: string;
  inet6?: string;
  'ip-addresses'?: { 'ip-address': string; 'ip-address-type': 'inet' | 'inet6'; prefix: number }[];
}

const cidr = (c: Cidr) => `${c.address}/${c.prefix}`;

type InterfaceFeatures = Pick<VersionFeatures, 'lxcIpAddresses' | 'lxcHardwareAddress'>;

interface EntrySpec {
  name: string;
  hwaddr: string;
  inet: Cidr[];
  inet6: Cidr[];
  features: InterfaceFeatures;
}

function entry({ name, hwaddr, inet, inet6, features }: EntrySpec): LxcInterface {
  const out: LxcInterface = { name, hwaddr };
  if (features.lxcHardwareAddress) out['hardware-address'] = hwaddr;
  if (inet[0]) out.inet = cidr(inet[0]);
  if (inet6[0]) out.inet6 = cidr(inet6[0]);
  if (features.lxcIpAddresses) {
    out['ip-addresses'] = [
      ...inet.map((c) => ({
        'ip-address': c.address,
        'ip-address-type': 'inet' as const,
        prefix: c.prefix,
      })),
      ...inet6.map((c) => ({
        'ip-address': c.address,
        'ip-address-type': 'inet6' as const,
        prefix: c.prefix,
      })),
    ];
  }
  return out;
}

/**
 * Interfaces of a running container from its `netN` config: `ip=dhcp` gets a stable lease,
 * `ip6=auto` a SLAAC address; every NIC has its fe80:: address.
 */
export function lxcInterfaces(guest: SimGuest, features: InterfaceFeatures): LxcInterface[] {
  const out = [
    entry({
      name: 'lo',
      hwaddr: '00:00:00:00:00:00',
      inet: [{ address: '127.0.0.1', prefix: 8 }],
      inet6: [{ address: '::1', prefix: 128 }],
      features,
    }),
  ];
  for (const nic of lxcNics(guest.config)) {
    const mac = nic.mac.toLowerCase();
    const name = nic.name ?? `eth${nic.index}`;
    if (nic.linkDown) {
      out.push(entry({ name, hwaddr: mac, inet: [], inet6: [], features }));
      continue;
    }
    const inet: Cidr[] = [];
    const address4 = nic.ip === 'manual' ? undefined : resolveV4(nic.ip, guest.vmid, nic.index);
    if (address4) inet.push(address4);
    const inet6: Cidr[] = [];
    const address6 = resolveV6(nic.ip6, mac, guest.vmid, nic.index);
    if (address6) inet6.push(address6);
    inet6.push(linkLocalV6(mac));
    out.push(entry({ name, hwaddr: mac, inet, inet6, features }));
  }
  return out;
}
