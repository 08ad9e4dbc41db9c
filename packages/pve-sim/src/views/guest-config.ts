import type { SimGuest } from '../model.js';
import type { PveVersion } from '../version.js';

const QEMU_INTEGERS = new Set(['cores', 'sockets', 'vcpus', 'balloon', 'cpuunits', 'shares']);
const QEMU_BOOLEANS = new Set([
  'onboot',
  'template',
  'numa',
  'acpi',
  'kvm',
  'tablet',
  'protection',
  'localtime',
  'reboot',
  'freeze',
]);
const LXC_INTEGERS = new Set(['cores', 'memory', 'swap', 'cpuunits', 'tty']);
const LXC_BOOLEANS = new Set(['onboot', 'template', 'unprivileged', 'protection', 'console']);

function asNumber(raw: string): number | string {
  const n = Number(raw);
  return raw !== '' && Number.isFinite(n) ? n : raw;
}

/**
 * `GET …/config`: the config with schema-typed values (integers as numbers, booleans as the
 * integers 0/1 as Proxmox's JSON has them, qemu `memory` a string from 8.0 and a number
 * before) plus `digest`.
 */
export function configForApi(
  guest: SimGuest,
  digest: string,
  version: PveVersion,
): Record<string, unknown> {
  const integers = guest.type === 'qemu' ? QEMU_INTEGERS : LXC_INTEGERS;
  const booleans = guest.type === 'qemu' ? QEMU_BOOLEANS : LXC_BOOLEANS;
  const out: Record<string, unknown> = { digest };
  for (const key of Object.keys(guest.config).sort()) {
    const raw = guest.config[key] ?? '';
    if (guest.type === 'qemu' && key === 'memory') {
      out[key] = version.features.memoryAsString ? raw : asNumber(raw);
    } else if (integers.has(key)) {
      out[key] = asNumber(raw);
    } else if (booleans.has(key)) {
      out[key] = asNumber(raw);
    } else {
      out[key] = raw;
    }
  }
  return out;
}
