import { qemuIpConfig, qemuNics } from '../config/nics.js';
import type { SimGuest } from '../model.js';
import { createPrng, type Prng } from '../prng.js';
import { type Cidr, linkLocalV6, resolveV4, resolveV6 } from './addresses.js';

/** One entry of `guest-network-get-interfaces`, as qemu-guest-agent reports it. */
export interface QgaInterface {
  name: string;
  'hardware-address'?: string;
  'ip-addresses'?: QgaIpAddress[];
  statistics?: Record<string, number>;
}

export interface QgaIpAddress {
  'ip-address': string;
  'ip-address-type': 'ipv4' | 'ipv6';
  prefix: number;
}

const v4 = (c: Cidr): QgaIpAddress => ({
  'ip-address': c.address,
  'ip-address-type': 'ipv4',
  prefix: c.prefix,
});
const v6 = (c: Cidr): QgaIpAddress => ({
  'ip-address': c.address,
  'ip-address-type': 'ipv6',
  prefix: c.prefix,
});

function statistics(prng: Prng): Record<string, number> {
  const rx = prng.int(1_000_000, 900_000_000);
  const tx = prng.int(100_000, 400_000_000);
  return {
    'rx-bytes': rx,
    'rx-dropped': prng.int(0, 5),
    'rx-errs': 0,
    'rx-packets': Math.floor(rx / 900),
    'tx-bytes': tx,
    'tx-dropped': 0,
    'tx-errs': 0,
    'tx-packets': Math.floor(tx / 700),
  };
}

function randomMac(prng: Prng, firstByte: number): string {
  return [firstByte, ...Array.from({ length: 5 }, () => prng.int(0, 255))]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join(':');
}

function linuxNoise(guest: SimGuest, prng: Prng): QgaInterface[] {
  const out: QgaInterface[] = [];
  const { noise, tunnel } = guest.agentProfile;
  if (noise === 'docker') {
    const mac = randomMac(prng, 0x02);
    out.push({
      name: 'docker0',
      'hardware-address': mac,
      'ip-addresses': [v4({ address: '172.17.0.1', prefix: 16 }), v6(linkLocalV6(mac))],
      statistics: statistics(prng),
    });
    for (let i = 0; i < 2; i++) {
      const vethMac = randomMac(prng, 0x0a);
      out.push({
        name: `veth${prng.hex(3)}`,
        'hardware-address': vethMac,
        'ip-addresses': [v6(linkLocalV6(vethMac))],
        statistics: statistics(prng),
      });
    }
  }
  if (noise === 'k8s') {
    out.push({
      name: 'vxlan.calico',
      'hardware-address': randomMac(prng, 0x66),
      'ip-addresses': [v4({ address: `192.168.${prng.int(0, 255)}.0`, prefix: 32 })],
    });
    for (let i = 0; i < 52; i++) {
      out.push({
        name: `cali${prng.hex(6).slice(0, 11)}`,
        'hardware-address': 'ee:ee:ee:ee:ee:ee',
        'ip-addresses': [v6({ address: 'fe80::ecee:eeff:feee:eeee', prefix: 64 })],
      });
    }
  }
  if (tunnel) {
    out.push({
      name: 'wg0',
      'ip-addresses': [
        v4({ address: `10.99.${prng.int(0, 255)}.${prng.int(1, 254)}`, prefix: 32 }),
      ],
    });
  }
  return out;
}

/**
 * `network-get-interfaces` of a running QEMU guest: loopback, one interface per configured
 * NIC (MAC lower-cased like the agent reports it) and the profile's noise.
 */
export function qgaInterfaces(guest: SimGuest): QgaInterface[] {
  const prng = createPrng(guest.agentProfile.seed);
  const profile = guest.agentProfile;
  const nics = qemuNics(guest.config);
  const lastIndex = nics[nics.length - 1]?.index;
  const windows = profile.os === 'windows';
  const out: QgaInterface[] = [];
  const loopback: QgaInterface = {
    name: windows ? 'Loopback Pseudo-Interface 1' : 'lo',
    'ip-addresses': [v4({ address: '127.0.0.1', prefix: 8 }), v6({ address: '::1', prefix: 128 })],
  };
  if (!windows) loopback['hardware-address'] = '00:00:00:00:00:00';
  if (!windows) out.push(loopback);
  for (const [position, nic] of nics.entries()) {
    const name = windows
      ? position === 0
        ? 'Ethernet'
        : `Ethernet ${position + 1}`
      : `ens${18 + nic.index}`;
    const mac = nic.mac.toLowerCase();
    const down =
      nic.linkDown || (profile.downInterface && nics.length > 1 && nic.index === lastIndex);
    if (down) {
      out.push({ name, 'hardware-address': mac });
      continue;
    }
    const { ip, ip6 } = qemuIpConfig(guest.config, nic.index);
    const addresses: QgaIpAddress[] = [];
    if (!profile.linkLocalOnly) {
      const address4 = resolveV4(ip, guest.vmid, nic.index);
      if (address4) addresses.push(v4(address4));
      const address6 = resolveV6(
        ip6 ?? (profile.ipv6 ? 'auto' : undefined),
        mac,
        guest.vmid,
        nic.index,
      );
      if (address6) addresses.push(v6(address6));
    }
    addresses.push(v6(linkLocalV6(mac)));
    out.push({
      name,
      'hardware-address': mac,
      'ip-addresses': addresses,
      statistics: statistics(prng),
    });
  }
  if (windows) out.push(loopback);
  else out.push(...linuxNoise(guest, prng));
  return out;
}
