import { randomBytes } from 'node:crypto';
import { eq, or, sql } from 'drizzle-orm';
import { hashPassword, isBcryptHash } from '../../crypto/passwords.js';
import { legacyIds, users } from '../../db/schema.js';
import { type Actor, rowsOf } from '../../db/tenant.js';
import { validatorFor } from '../../http/body-validator.js';
import { ConflictError } from '../../http/errors.js';
import { writeAudit } from '../audit/write-audit.js';
import { revokeSessions } from '../auth/sessions.js';
import { createUser } from '../users/create-user.js';
import { ensureAnotherActiveAdmin, lockActiveAdmins } from '../users/last-admin.js';
import { Email, Username } from '../users/schemas.js';
import type { Door } from './door.js';
import { MIGRATION_REQUEST_ID } from './door.js';
import { fingerprint, saveMapping } from './legacy-ids.js';
import { note, skip, type TableReport } from './report.js';
import type { LegacySource } from './source.js';

/** An AccountDB user an earlier user became: their rows are written as them. */
export interface Owner {
  id: string;
  username: string;
}

const validUsername = validatorFor(Username);
const validEmail = validatorFor(Email);

/** The e-mail an earlier user without a usable one gets (`.invalid` is reserved, RFC 2606). */
export const placeholderEmail = (username: string) => `${username.toLowerCase()}@legacy.invalid`;

const USER_COLUMNS = 'id, username, email, password_hash, role, is_active';

interface LegacyUser {
  id: number;
  username: string | null;
  email: string | null;
  password_hash: string | null;
  role: string | null;
  is_active: boolean | null;
}

const audit = (actor: Actor) => ({ actor, ip: null, requestId: MIGRATION_REQUEST_ID });

/** What an earlier user becomes; a reason when it cannot. */
function userBody(u: LegacyUser):
  | {
      body: { username: string; email: string; role: 'admin' | 'user'; isActive: boolean };
      emailNote?: string;
    }
  | { reason: string } {
  const username = (u.username ?? '').trim();
  if (validUsername(username, 'username').length > 0) {
    return {
      reason: `username ${JSON.stringify(username)} is not an AccountDB username (3-64 letters, digits, dot, dash or underscore, starting with a letter or digit); rename it in the earlier database and run again`,
    };
  }
  const email = (u.email ?? '').trim();
  const usable = email !== '' && validEmail(email, 'email').length === 0;
  return {
    body: {
      username,
      email: usable ? email : placeholderEmail(username),
      role: u.role === 'admin' ? 'admin' : 'user',
      isActive: u.is_active !== false,
    },
    ...(usable
      ? {}
      : {
          emailNote: `${email ? `e-mail ${JSON.stringify(email)} is not an e-mail address` : 'no e-mail'}: given ${placeholderEmail(username)} (change it in Users)`,
        }),
  };
}

/**
 * The AccountDB admin users are created as: --admin, or on an empty AccountDB the earlier
 * system's first active admin, made the first admin through the setup path (its bcrypt hash
 * kept, like every user's).
 */
export async function resolveAdmin(options: {
  door: Door;
  source: LegacySource;
  admin: { id: string; username: string } | null;
}): Promise<Owner & { created?: { legacyId: number } }> {
  if (options.admin) return options.admin;
  const setupNeeded = await options.door.run({ kind: 'anonymous' }, async (tx) => {
    const [row] = rowsOf<{ needed: boolean }>(
      await tx.execute(sql`SELECT auth_setup_needed() AS needed`),
    );
    return row?.needed === true;
  });
  if (!setupNeeded) {
    throw new Error(
      'name the AccountDB admin that creates the users with --admin <username> (AccountDB already has users)',
    );
  }
  let first: LegacyUser | undefined;
  for await (const page of options.source.pages(
    `SELECT ${USER_COLUMNS} FROM public.users WHERE role = 'admin' AND is_active ORDER BY id`,
  )) {
    first = page
      .map((r) => r as unknown as LegacyUser)
      .find((u) => {
        const b = userBody(u);
        return 'body' in b && isBcryptHash(u.password_hash ?? '');
      });
    if (first) break;
  }
  if (!first) {
    throw new Error(
      'AccountDB has no users and the earlier database no active admin with a usable username and bcrypt password: create an admin first (accountdb create-admin) and pass --admin <username>',
    );
  }
  const made = userBody(first);
  if (!('body' in made)) throw new Error('unreachable');
  const { body } = made;
  const id = await options.door.run({ kind: 'anonymous' }, async (tx) => {
    const [row] = rowsOf<{ id: string | null }>(
      await tx.execute(
        sql`SELECT auth_create_first_admin(${body.username}, ${body.email}, ${first.password_hash}) AS id`,
      ),
    );
    return row?.id ?? null;
  });
  if (!id)
    throw new Error(
      'AccountDB got its first user while the migration started; run again with --admin',
    );
  return { id, username: body.username, created: { legacyId: first.id } };
}

/**
 * Earlier users → AccountDB users, each in its own admin transaction with its mapping:
 * bcrypt hashes kept as they are (the first login turns them into argon2id), roles and
 * deactivation kept, no usable e-mail → a placeholder. A name or e-mail already taken in
 * AccountDB by someone else is skipped (and with it that user's rows); the same username and
 * e-mail together are the same person: their rows go to that AccountDB user.
 */
export async function migrateUsers(options: {
  door: Door;
  source: LegacySource;
  admin: Owner & { created?: { legacyId: number } };
  report: TableReport;
  onProgress: (done: number) => void;
}): Promise<void> {
  const { door, report: t } = options;
  const adminActor: Actor = {
    kind: 'user',
    userId: options.admin.id,
    username: options.admin.username,
    role: 'admin',
    via: 'session',
    scopes: ['read', 'write'],
  };
  let done = 0;
  for await (const page of options.source.pages(
    `SELECT ${USER_COLUMNS} FROM public.users ORDER BY id`,
  )) {
    for (const raw of page) {
      const u = raw as unknown as LegacyUser;
      t.read++;
      const made = userBody(u);
      if (!('body' in made)) {
        skip(t, u.id, made.reason);
        continue;
      }
      const { body } = made;
      const print = fingerprint({ ...body, password_hash: u.password_hash });
      const bcrypt = isBcryptHash(u.password_hash ?? '');
      const outcome = await door.run(adminActor, async (tx) => {
        const [mapped] = await tx
          .select({ user: users, fingerprint: legacyIds.fingerprint })
          .from(legacyIds)
          .innerJoin(users, eq(users.id, legacyIds.ownerId))
          .where(
            sql`${legacyIds.sourceTable} = 'users' AND ${legacyIds.legacyId} = ${String(u.id)}`,
          );
        if (options.admin.created?.legacyId === u.id && !mapped) {
          await saveMapping(tx, {
            ownerId: options.admin.id,
            table: 'users',
            legacyId: String(u.id),
            rowId: options.admin.id,
            fingerprint: print,
          });
          return 'created' as const;
        }
        if (mapped) {
          if (mapped.fingerprint === print) return 'unchanged' as const;
          let current = mapped.user;
          // The last-admin rule of PATCH /users/{id}: the earlier system demoting or
          // deactivating AccountDB's last active admin is not carried over.
          const losesAdmin = body.role !== 'admin' || !body.isActive;
          if (losesAdmin) {
            await lockActiveAdmins(tx);
            const [locked] = await tx
              .select()
              .from(users)
              .where(eq(users.id, current.id))
              .for('update');
            if (!locked) return 'unchanged' as const;
            current = locked;
            if (current.role === 'admin' && current.isActive) {
              try {
                await ensureAnotherActiveAdmin(tx, current.id);
              } catch (err) {
                if (!(err instanceof ConflictError)) throw err;
                return {
                  reason: `${body.isActive ? 'demoted' : 'deactivated'} in the earlier database, but ${current.username} is AccountDB's last active admin: not changed (make another admin first, then run again)`,
                };
              }
            }
          }
          const set: Partial<typeof users.$inferInsert> = {
            username: body.username,
            email: body.email,
            role: body.role,
            isActive: body.isActive,
            ...(bcrypt && isBcryptHash(current.passwordHash)
              ? { passwordHash: u.password_hash as string }
              : {}),
          };
          await tx.update(users).set(set).where(eq(users.id, current.id));
          if (current.isActive && !body.isActive)
            await revokeSessions(tx, { userId: current.id, reason: 'deactivated' });
          await writeAudit(tx, audit(adminActor), {
            action: 'user.update',
            entityType: 'user',
            entityId: current.id,
            ownerId: current.id,
            details: { fields: Object.keys(set), via: 'migrate-legacy', legacy_id: u.id },
          });
          await saveMapping(tx, {
            ownerId: current.id,
            table: 'users',
            legacyId: String(u.id),
            rowId: current.id,
            fingerprint: print,
          });
          return 'updated' as const;
        }
        const taken = await tx
          .select({ id: users.id, username: users.username, email: users.email })
          .from(users)
          .where(
            or(
              sql`lower(${users.username}) = lower(${body.username})`,
              sql`lower(${users.email}) = lower(${body.email})`,
            ),
          );
        if (taken.length > 0) {
          const same = taken.find(
            (x) =>
              x.username.toLowerCase() === body.username.toLowerCase() &&
              x.email.toLowerCase() === body.email.toLowerCase(),
          );
          if (same && taken.length === 1) {
            await saveMapping(tx, {
              ownerId: same.id,
              table: 'users',
              legacyId: String(u.id),
              rowId: same.id,
              fingerprint: print,
            });
            return { merged: same.username };
          }
          const which = taken.some((x) => x.username.toLowerCase() === body.username.toLowerCase())
            ? `username ${body.username}`
            : `e-mail ${body.email}`;
          return {
            reason: `${which} is already taken in AccountDB by another user; rename one of them and run again (this user's rows are skipped too)`,
          };
        }
        const passwordHash = bcrypt
          ? (u.password_hash as string)
          : await hashPassword(randomBytes(32).toString('base64'));
        const row = await createUser(tx, audit(adminActor), {
          ...body,
          passwordHash,
          details: { via: 'migrate-legacy', legacy_id: u.id },
        });
        await saveMapping(tx, {
          ownerId: row.id,
          table: 'users',
          legacyId: String(u.id),
          rowId: row.id,
          fingerprint: print,
        });
        return 'created' as const;
      });
      if (outcome === 'created') {
        t.created++;
        if (made.emailNote) note(t, u.id, made.emailNote);
        if (!bcrypt)
          note(
            t,
            u.id,
            `password hash is not bcrypt: no password works; set one with accountdb reset-password --username ${body.username}`,
          );
      } else if (outcome === 'updated') t.updated++;
      else if (outcome === 'unchanged') t.unchanged++;
      else if ('merged' in outcome) {
        t.unchanged++;
        note(
          t,
          u.id,
          `already in AccountDB as ${outcome.merged} (same username and e-mail): its rows go to that user, whose password stays`,
        );
      } else skip(t, u.id, outcome.reason);
      options.onProgress(++done);
    }
  }
}

/** Every earlier user id the users step mapped, with the AccountDB user (as the admin sees it). */
export async function ownerMap(door: Door, admin: Owner): Promise<Map<string, Owner>> {
  const actor: Actor = {
    kind: 'user',
    userId: admin.id,
    username: admin.username,
    role: 'admin',
    via: 'session',
    scopes: ['read'],
  };
  return door.run(actor, async (tx) => {
    const rows = await tx
      .select({ legacyId: legacyIds.legacyId, id: users.id, username: users.username })
      .from(legacyIds)
      .innerJoin(users, eq(users.id, legacyIds.ownerId))
      .where(eq(legacyIds.sourceTable, 'users'));
    return new Map(rows.map((r) => [r.legacyId, { id: r.id, username: r.username }]));
  });
}
