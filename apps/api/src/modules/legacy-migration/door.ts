import type { FastifyRequest } from 'fastify';
import type { Database } from '../../db/client.js';
import { type Actor, switchActor, type Tx, withTenant } from '../../db/tenant.js';

/**
 * How the migration reaches AccountDB's tables: every step is a tenant transaction as one
 * actor (an admin for users, each owner for their rows), like a request. In a dry run every
 * step is a savepoint of one transaction that is rolled back at the end, so later steps see
 * what earlier ones wrote (a new user's rows, an account a VM links to) and nothing stays.
 */
export interface Door {
  run<T>(actor: Actor, fn: (tx: Tx) => Promise<T>): Promise<T>;
}

class DryRunEnd<T> extends Error {
  constructor(readonly value: T) {
    super('dry run: rolled back');
  }
}

/** Runs body with a door whose steps commit one by one, or in a dry run all roll back. */
export async function throughDoor<T>(
  database: Database,
  options: { dryRun: boolean },
  body: (door: Door) => Promise<T>,
): Promise<T> {
  if (!options.dryRun) return body({ run: (actor, fn) => withTenant(database, actor, fn) });
  try {
    await withTenant(database, { kind: 'anonymous' }, async (outer) => {
      const door: Door = {
        run: (actor, fn) =>
          outer.transaction(async (sp) => {
            await switchActor(database, sp as Tx, actor);
            return fn(sp as Tx);
          }),
      };
      throw new DryRunEnd(await body(door));
    });
  } catch (err) {
    if (err instanceof DryRunEnd) return err.value as T;
    throw err;
  }
  throw new Error('dry run ended without a result');
}

/** A user context for an owner's rows (their own rows only, whatever their role). */
export function ownerActor(user: { id: string; username: string }): Actor {
  return {
    kind: 'user',
    userId: user.id,
    username: user.username,
    role: 'user',
    via: 'session',
    scopes: ['read', 'write'],
  };
}

export const MIGRATION_REQUEST_ID = 'migrate-legacy';

/**
 * What the resource write paths take of a request: the actor and request id for the audit
 * entry (the id says the migration wrote it) and the server's address for agent configs.
 */
export function migrationRequest(actor: Actor, publicUrl: URL): FastifyRequest {
  return {
    actor,
    ip: null,
    id: MIGRATION_REQUEST_ID,
    protocol: publicUrl.protocol.replace(/:$/, ''),
    host: publicUrl.host,
    headers: {},
  } as unknown as FastifyRequest;
}
