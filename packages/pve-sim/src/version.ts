import { createHash } from 'node:crypto';

/** What changes between simulated Proxmox VE versions. */
export interface VersionFeatures {
  /** qemu `memory` is a property string (`"8192"`, `"current=8192"`) from 8.0; a number before. */
  memoryAsString: boolean;
  /** `/nodes/{node}/lxc` listed `vmid` as a string before 7.0 (for some containers). */
  lxcVmidString: boolean;
  /** `/nodes/{node}/lxc/{vmid}/interfaces` exists from 7.1; 501 before. */
  lxcInterfaces: boolean;
  /**
   * LXC interfaces also carry an `ip-addresses` list from 8.1 (pve-docs apidata.js schema of
   * 8.1.0, November 2023).
   */
  lxcIpAddresses: boolean;
  /**
   * LXC interfaces also carry `hardware-address` (beside `hwaddr`) from 8.4 (pve-container
   * 5.2.4; pve-docs apidata.js schema of 8.4.0, April 2025).
   */
  lxcHardwareAddress: boolean;
  /** `/nodes/{node}/status` `memory` has `available` from 9.0 (pve-docs apidata.js, 9.0.0). */
  nodeMemoryAvailable: boolean;
}

export interface PveVersion {
  /** As `/version` reports it, e.g. `8.4.1` or `7.4-3`. */
  version: string;
  /** Major.minor, e.g. `8.4`. */
  release: string;
  major: number;
  minor: number;
  /** Stand-in for the pve-manager git commit. */
  repoid: string;
  features: VersionFeatures;
}

export const DEFAULT_PVE_VERSION = '8.4.1';

export function atLeast(v: Pick<PveVersion, 'major' | 'minor'>, major: number, minor: number) {
  return v.major > major || (v.major === major && v.minor >= minor);
}

export function parsePveVersion(text: string): PveVersion {
  const m = /^(\d+)\.(\d+)(?:[.-](\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`invalid Proxmox VE version '${text}' (expected e.g. 8.4.1 or 7.4-3)`);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const v = { major, minor };
  return {
    version: text.trim(),
    release: `${major}.${minor}`,
    major,
    minor,
    repoid: createHash('sha1').update(`pve-manager/${text.trim()}`).digest('hex').slice(0, 16),
    features: {
      memoryAsString: major >= 8,
      lxcVmidString: major < 7,
      lxcInterfaces: atLeast(v, 7, 1),
      lxcIpAddresses: atLeast(v, 8, 1),
      lxcHardwareAddress: atLeast(v, 8, 4),
      nodeMemoryAvailable: major >= 9,
    },
  };
}
