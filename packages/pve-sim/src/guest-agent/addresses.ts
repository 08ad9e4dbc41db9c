/** Address helpers for guest-agent answers: DHCP leases, SLAAC and link-local IPv6. */

export interface Cidr {
  address: string;
  prefix: number;
}

export function parseCidr(text: string | undefined): Cidr | undefined {
  if (!text) return undefined;
  const m = /^([0-9a-fA-F.:]+)\/(\d{1,3})$/.exec(text);
  if (!m?.[1]) return undefined;
  return { address: m[1].toLowerCase(), prefix: Number(m[2]) };
}

/** The IPv4 lease a DHCP guest gets for one NIC: stable per (vmid, nic), unique per vmid. */
export function dhcpV4(vmid: number, nic: number): Cidr {
  const second = (20 + nic * 8 + Math.floor(vmid / 62_500)) % 256;
  const third = Math.floor(vmid / 250) % 250;
  return { address: `10.${second}.${third}.${(vmid % 250) + 2}`, prefix: 24 };
}

/** Canonical text form of eight 16-bit groups (longest zero run as ::). */
export function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function macBytes(mac: string): number[] {
  const bytes = mac.split(':').map((b) => Number.parseInt(b, 16));
  return bytes.length === 6 && bytes.every((b) => b >= 0 && b <= 255) ? bytes : [2, 0, 0, 0, 0, 1];
}

/** The modified EUI-64 interface identifier of a MAC, as four groups. */
function eui64(mac: string): number[] {
  const [b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0] = macBytes(mac);
  return [((b0 ^ 0x02) << 8) | b1, (b2 << 8) | 0xff, 0xfe00 | b3, (b4 << 8) | b5];
}

export function linkLocalV6(mac: string): Cidr {
  return { address: formatIpv6([0xfe80, 0, 0, 0, ...eui64(mac)]), prefix: 64 };
}

/** SLAAC address in a per-NIC documentation prefix (2001:db8:N::/64). */
export function slaacV6(mac: string, nic: number): Cidr {
  return { address: formatIpv6([0x2001, 0xdb8, nic + 1, 0, ...eui64(mac)]), prefix: 64 };
}

/** DHCPv6 lease: stable per (vmid, nic). */
export function dhcpV6(vmid: number, nic: number): Cidr {
  return {
    address: formatIpv6([0x2001, 0xdb8, nic + 1, 0, 0, 0, Math.floor(vmid / 65536), vmid % 65536]),
    prefix: 128,
  };
}

/** The IPv4 address a NIC ends up with for an `ip=` setting (CIDR or dhcp). */
export function resolveV4(
  setting: string | undefined,
  vmid: number,
  nic: number,
): Cidr | undefined {
  if (setting === undefined || setting === 'dhcp') return dhcpV4(vmid, nic);
  return parseCidr(setting);
}

/** The global IPv6 address for an `ip6=` setting (CIDR, auto, dhcp; manual/absent: none). */
export function resolveV6(
  setting: string | undefined,
  mac: string,
  vmid: number,
  nic: number,
): Cidr | undefined {
  if (setting === 'auto') return slaacV6(mac, nic);
  if (setting === 'dhcp') return dhcpV6(vmid, nic);
  return parseCidr(setting);
}
