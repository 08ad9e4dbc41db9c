import { LIMITS } from '../../http/limits.js';

/** One change announced by the database (migration 0013): never a secret. */
export interface LiveEvent {
  owner_id: string;
  type: 'vm' | 'node';
  /** The VM or node; null when one statement changed many VMs of the owner (count). */
  id: string | null;
  status: string | null;
  count?: number;
}

export interface Subscriber {
  userId: string;
  /** The owner whose events it gets; null: every owner's (an admin without owner_id). */
  ownerId: string | null;
  send(event: LiveEvent): void;
  /** Events may have been missed (the database connection was lost): refetch everything. */
  resync(): void;
  /** Ends the stream (app close). */
  close(): void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A notification payload as a LiveEvent, or null when it is not one. */
export function parseLiveEvent(payload: string): LiveEvent | null {
  if (payload.length > 8000) return null;
  let v: unknown;
  try {
    v = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const e = v as Record<string, unknown>;
  if (typeof e.owner_id !== 'string' || !UUID.test(e.owner_id)) return null;
  if (e.type !== 'vm' && e.type !== 'node') return null;
  if (e.id !== null && (typeof e.id !== 'string' || !UUID.test(e.id))) return null;
  if (e.status !== null && (typeof e.status !== 'string' || e.status.length > 64)) return null;
  const event: LiveEvent = { owner_id: e.owner_id, type: e.type, id: e.id, status: e.status };
  if (typeof e.count === 'number' && Number.isInteger(e.count)) event.count = e.count;
  return event;
}

export type SubscribeResult =
  | { ok: true; unsubscribe: () => void }
  | { ok: false; limit: 'user' | 'process' };

/**
 * The open event streams of this API process, fed by its one LISTEN connection. Each event
 * goes only to the streams of its owner (and to admins' streams without an owner filter).
 */
export class EventHub {
  private readonly subscribers = new Set<Subscriber>();
  private readonly perUser = new Map<string, number>();

  constructor(
    private readonly limits: { streamsPerUser: number; streams: number } = LIMITS.events,
  ) {}

  get size(): number {
    return this.subscribers.size;
  }

  subscribe(subscriber: Subscriber): SubscribeResult {
    const mine = this.perUser.get(subscriber.userId) ?? 0;
    if (mine >= this.limits.streamsPerUser) return { ok: false, limit: 'user' };
    if (this.subscribers.size >= this.limits.streams) return { ok: false, limit: 'process' };
    this.subscribers.add(subscriber);
    this.perUser.set(subscriber.userId, mine + 1);
    let done = false;
    return {
      ok: true,
      unsubscribe: () => {
        if (done) return;
        done = true;
        this.subscribers.delete(subscriber);
        const left = (this.perUser.get(subscriber.userId) ?? 1) - 1;
        if (left > 0) this.perUser.set(subscriber.userId, left);
        else this.perUser.delete(subscriber.userId);
      },
    };
  }

  publish(event: LiveEvent): void {
    for (const s of this.subscribers) {
      if (s.ownerId === null || s.ownerId === event.owner_id) s.send(event);
    }
  }

  /** Tells every stream that events may have been missed. */
  resyncAll(): void {
    for (const s of [...this.subscribers]) s.resync();
  }

  /** Ends every stream (app close). */
  closeAll(): void {
    for (const s of [...this.subscribers]) s.close();
  }
}
