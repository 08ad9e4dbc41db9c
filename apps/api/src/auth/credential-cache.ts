/** Which user (and session, token or node) a cached credential answer belongs to. */
export interface CredentialOwner {
  userId: string;
  sessionId?: string;
  tokenId?: string;
  nodeId?: string;
}

/** What forget() drops: every entry of the user, or of one session, token or node. */
export type CredentialMatch =
  | { userId: string }
  | { sessionId: string }
  | { tokenId: string }
  | { nodeId: string };

interface Entry {
  value: unknown;
  owner: CredentialOwner;
  storedAt: number;
}

export interface CredentialCacheOptions {
  /** Entries kept at most; the least recently used goes first (default 10,000). */
  maxEntries?: number;
  /** Age after which an entry is asked again whatever happened (default 60 s). */
  maxAgeMs?: number;
  now?: () => number;
}

/**
 * One API process's answers to its per-request credential checks (session state, personal
 * access token and node key lookups), so that a request needs no transaction of its own for
 * them. Only positive answers are kept (an open session of an active user, a token or key
 * that exists), so creating a credential needs no invalidation; everything that takes one
 * away is announced by migration 0014's triggers on the channel accountdb_auth, which
 * credential-listener.ts turns into forget(). The process that makes a change also forgets
 * at once, so that its own next request never waits for the notification.
 *
 * Fail safe: while the LISTEN connection is not up (not yet, or lost), the cache is not
 * live: it answers nothing and keeps nothing, and every request asks the database. It is
 * emptied when the connection comes back (notifications sent meanwhile are lost).
 */
export class CredentialCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private isLive = false;
  /** Bumped by every forget: a lookup that overlapped one does not keep its answer. */
  private generation = 0;
  private counters = { hits: 0, misses: 0 };

  constructor(options: CredentialCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.maxAgeMs = options.maxAgeMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Whether the cache answers: only while its invalidation feed is listened to. */
  get live(): boolean {
    return this.isLive;
  }

  get size(): number {
    return this.entries.size;
  }

  get stats(): { hits: number; misses: number } {
    return { ...this.counters };
  }

  /** The invalidation feed is up (true) or lost (false); either way the cache is emptied. */
  setLive(live: boolean): void {
    this.isLive = live;
    this.clear();
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }

  forget(match: CredentialMatch): void {
    this.generation++;
    const [field, id] = Object.entries(match)[0] as [keyof CredentialOwner, string];
    for (const [key, entry] of this.entries) {
      if (entry.owner[field] === id) this.entries.delete(key);
    }
  }

  /**
   * The cached answer for key, or load()'s, which is kept when keep() returns its owner
   * (null: not kept, e.g. a refused credential).
   */
  async lookup<T>(options: {
    key: string;
    load: () => Promise<T>;
    keep: (value: T) => CredentialOwner | null;
  }): Promise<T> {
    const { key } = options;
    if (this.isLive) {
      const entry = this.entries.get(key);
      if (entry && this.now() - entry.storedAt < this.maxAgeMs) {
        // Most recently used last: Map keeps insertion order.
        this.entries.delete(key);
        this.entries.set(key, entry);
        this.counters.hits++;
        return entry.value as T;
      }
      if (entry) this.entries.delete(key);
    }
    this.counters.misses++;
    const generation = this.generation;
    const value = await options.load();
    const owner = options.keep(value);
    if (owner && this.isLive && generation === this.generation) {
      this.entries.set(key, { value, owner, storedAt: this.now() });
      if (this.entries.size > this.maxEntries) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
    }
    return value;
  }

  /** Changes a kept answer in place (e.g. a token's last use), if it is still there. */
  update<T>(key: string, change: (value: T) => T): void {
    const entry = this.entries.get(key);
    if (entry) entry.value = change(entry.value as T);
  }
}
