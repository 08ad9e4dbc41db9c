/** What an event stream needs of the response: node's ServerResponse is one. */
export interface SseTarget {
  readonly writableLength: number;
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
  write(chunk: string): boolean;
  end(): unknown;
  destroy(): unknown;
}

/**
 * One open event stream: heartbeats while nothing happens, and a client that does not read
 * is dropped once `backlogBytes` wait for it (it reconnects and refetches) rather than buffered
 * for without bound.
 */
export class SseStream {
  private heartbeat: NodeJS.Timeout | null = null;
  private expiry: NodeJS.Timeout | null = null;
  private readonly onEnd: Array<() => void> = [];

  constructor(
    private readonly target: SseTarget,
    private readonly options: { backlogBytes: number; heartbeatMs: number; maxStreamMs: number },
  ) {}

  /** Starts the heartbeats, and the clock that ends the stream after maxStreamMs. */
  start(): void {
    this.heartbeat = setInterval(() => this.write(': heartbeat\n\n'), this.options.heartbeatMs);
    this.heartbeat.unref();
    this.expiry = setTimeout(() => this.end(), this.options.maxStreamMs);
    this.expiry.unref();
  }

  /** Called once when the stream ends, however it ends. */
  ended(fn: () => void): void {
    this.onEnd.push(fn);
  }

  write(chunk: string): void {
    const t = this.target;
    if (t.writableEnded || t.destroyed) return;
    if (t.writableLength > this.options.backlogBytes) {
      this.end();
      t.destroy();
      return;
    }
    t.write(chunk);
  }

  end(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.expiry) clearTimeout(this.expiry);
    this.heartbeat = null;
    this.expiry = null;
    for (const fn of this.onEnd.splice(0)) fn();
    if (!this.target.writableEnded) this.target.end();
  }
}
