import type { GuestDerived, GuestType } from '../model.js';
import { parseBoolean, parsePropertyString, parseSize } from './property-string.js';

const MIB = 1024 * 1024;
const QEMU_DISK_KEY = /^(?:ide|sata|scsi|virtio)\d+$/;
const DISK_BUS_ORDER = ['ide', 'sata', 'scsi', 'virtio'];

export function isQemuDiskKey(key: string): boolean {
  return QEMU_DISK_KEY.test(key);
}

/** CD-ROMs (ISO or empty) and cloud-init drives are not disks. */
export function isSkippedDrive(value: string): boolean {
  const props = parsePropertyString(value, 'file');
  const file = props.get('file') ?? '';
  return props.get('media') === 'cdrom' || file === 'none' || file.includes('cloudinit');
}

/** qemu `memory`: "8192", "current=8192" or absent (512). */
export function qemuMemoryMiB(raw: string | undefined): number {
  if (raw === undefined) return 512;
  const n = Number(parsePropertyString(raw, 'current').get('current'));
  return Number.isFinite(n) && n > 0 ? n : 512;
}

/** `agent: 1`, `agent: enabled=1,fstrim_cloned_disks=1`, `agent: 1,fstrim_cloned_disks=1`. */
export function agentEnabled(raw: string | undefined): boolean {
  if (!raw) return false;
  return parseBoolean(parsePropertyString(raw, 'enabled').get('enabled')) === true;
}

function diskSize(value: string | undefined): number | undefined {
  if (!value || isSkippedDrive(value)) return undefined;
  return parseSize(parsePropertyString(value, 'file').get('size')) ?? 0;
}

/** Size of the boot disk (first disk of the boot order), 0 without one. */
export function bootDiskSize(config: Readonly<Record<string, string>>): number {
  let order: string[];
  if (config.boot?.includes('order=')) {
    order = (parsePropertyString(config.boot).get('order') ?? '').split(';');
  } else if (config.bootdisk) {
    order = [config.bootdisk];
  } else {
    order = Object.keys(config)
      .filter(isQemuDiskKey)
      .sort((a, b) => {
        const bus = (k: string) => DISK_BUS_ORDER.indexOf(k.replace(/\d+$/, ''));
        return bus(a) - bus(b) || Number(a.replace(/^\D+/, '')) - Number(b.replace(/^\D+/, ''));
      });
  }
  for (const key of order) {
    if (!isQemuDiskKey(key)) continue;
    const size = diskSize(config[key]);
    if (size !== undefined) return size;
  }
  return 0;
}

function positiveInt(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

export function deriveGuest(
  type: GuestType,
  config: Readonly<Record<string, string>>,
): GuestDerived {
  const template = parseBoolean(config.template) === true;
  if (type === 'qemu') {
    const cores = positiveInt(config.cores, 1);
    const sockets = positiveInt(config.sockets, 1);
    return {
      name: config.name,
      template,
      maxcpu: positiveInt(config.vcpus, cores * sockets),
      maxmem: qemuMemoryMiB(config.memory) * MIB,
      maxdisk: bootDiskSize(config),
      maxswap: 0,
      agentEnabled: agentEnabled(config.agent),
    };
  }
  return {
    name: config.hostname,
    template,
    maxcpu: positiveInt(config.cores, 1),
    maxmem: positiveInt(config.memory, 512) * MIB,
    maxdisk: diskSize(config.rootfs) ?? 0,
    maxswap: Number.isInteger(Number(config.swap)) ? Number(config.swap) * MIB : 512 * MIB,
    agentEnabled: false,
  };
}
