/** What `/_sim/stats` reports. */
export interface StatsSnapshot {
  requests_total: number;
  /** Keyed by the route pattern, e.g. `/nodes/{node}/qemu/{vmid}/config`. */
  requests_by_path: Record<string, number>;
  /** Keyed by endpoint kind, e.g. `qemu-config`, `cluster-resources`. */
  requests_by_kind: Record<string, number>;
  /** Keyed by HTTP status, plus `dropped` for connections closed by the `down` fault. */
  responses_by_status: Record<string, number>;
}

const increment = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

/** Counts the API requests the simulator served (the /_sim control API is not counted). */
export class RequestStats {
  private total = 0;
  private readonly byPath = new Map<string, number>();
  private readonly byKind = new Map<string, number>();
  private readonly byStatus = new Map<string, number>();

  count(path: string, kind: string): void {
    this.total++;
    increment(this.byPath, path);
    increment(this.byKind, kind);
  }

  answered(status: number | 'dropped'): void {
    increment(this.byStatus, String(status));
  }

  snapshot(): StatsSnapshot {
    return {
      requests_total: this.total,
      requests_by_path: Object.fromEntries(this.byPath),
      requests_by_kind: Object.fromEntries(this.byKind),
      responses_by_status: Object.fromEntries(this.byStatus),
    };
  }

  reset(): void {
    this.total = 0;
    this.byPath.clear();
    this.byKind.clear();
    this.byStatus.clear();
  }
}
