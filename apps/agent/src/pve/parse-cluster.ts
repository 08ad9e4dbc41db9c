import { PveError } from './errors.js';
import { toBool, toText } from './parse-values.js';

export interface ClusterNode {
  name: string;
  online: boolean;
  /** The node that answered the request. */
  local: boolean;
  ip: string | undefined;
}

export interface ClusterStatus {
  /** Cluster name; undefined on a standalone node. */
  cluster: string | undefined;
  /** Quorum; a standalone node is always quorate. */
  quorate: boolean;
  nodes: ClusterNode[];
}

/** `GET /cluster/status`: one `type:"cluster"` entry (absent on a standalone node) and one per node. */
export function parseClusterStatus(data: unknown): ClusterStatus {
  if (!Array.isArray(data)) {
    throw new PveError(
      'bad_response',
      '/cluster/status did not return a list',
      undefined,
      '/cluster/status',
    );
  }
  let cluster: string | undefined;
  let quorate: boolean | undefined;
  const nodes: ClusterNode[] = [];
  for (const raw of data) {
    if (!raw || typeof raw !== 'object') continue;
    const e = raw as Record<string, unknown>;
    if (e.type === 'cluster') {
      cluster = toText(e.name);
      quorate = toBool(e.quorate) === true;
    } else if (e.type === 'node') {
      const name = toText(e.name);
      if (!name) continue;
      nodes.push({
        name,
        online: toBool(e.online) === true,
        local: toBool(e.local) === true,
        ip: toText(e.ip),
      });
    }
  }
  if (nodes.length === 0) {
    throw new PveError(
      'bad_response',
      '/cluster/status listed no node',
      undefined,
      '/cluster/status',
    );
  }
  // Standalone: no cluster entry, the single node is its own quorum.
  return { cluster, quorate: cluster === undefined ? true : quorate === true, nodes };
}

/** `GET /version` → "8.4.1" (undefined when missing). */
export function parseVersion(data: unknown): string | undefined {
  if (!data || typeof data !== 'object') return undefined;
  const d = data as Record<string, unknown>;
  return toText(d.version) ?? toText(d.release);
}

/** The major version of "8.4.1" (undefined when unknown). */
export function majorVersion(version: string | undefined): number | undefined {
  const m = /^(\d+)\./.exec(version ?? '');
  return m ? Number(m[1]) : undefined;
}
