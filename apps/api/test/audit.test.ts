import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../src/db/schema.js';
import { type Actor, withTenant } from '../src/db/tenant.js';
import {
  bearer,
  createToken,
  createUser,
  randomName,
  randomPassword,
  setupAdmin,
  type TestUser,
} from './helpers/factories.js';
import { allAuditText, expectProblem, ownerQuery } from './helpers/support.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/**
 * The audit trail of the user and token APIs: who did what, from where, in which request;
 * visible to the user it concerns through the tenant path; append-only for the request role;
 * never a secret.
 */
let t: TestApp;
let app: FastifyInstance;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;
/** Every password and token this file uses; none of them may ever reach the audit log. */
const secrets: string[] = [];
/** A documentation address (RFC 5737), so the ip column is seen to be the caller's. */
const IP = '203.0.113.7';

interface AuditRow {
  id: string;
  owner_id: string | null;
  actor_type: string;
  actor_id: string | null;
  actor_name: string | null;
  action: string;
  entity_type: string | null;
  entity_id: string | null;
  ip: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

const newRequestId = () => randomName('rid');

/** A request with a chosen request id, from IP. */
async function send(
  method: Method,
  url: string,
  token: string,
  requestId: string,
  payload?: object,
) {
  const res = await app.inject({
    method,
    url,
    headers: { ...bearer(token), 'x-request-id': requestId },
    remoteAddress: IP,
    ...(payload === undefined ? {} : { payload }),
  });
  expect(res.headers['x-request-id']).toBe(requestId);
  return res;
}

/** The audit rows a request wrote, read as the schema owner. */
function rowsOf(requestId: string): Promise<AuditRow[]> {
  return ownerQuery<AuditRow>(
    t.database,
    'SELECT * FROM audit_log WHERE request_id = $1 ORDER BY at, id',
    [requestId],
  );
}

async function onlyRow(requestId: string): Promise<AuditRow> {
  const rows = await rowsOf(requestId);
  expect(rows).toHaveLength(1);
  return rows[0] as AuditRow;
}

const actorOf = (user: TestUser): Actor => ({
  kind: 'user',
  userId: user.id,
  username: user.username,
  role: user.role,
  via: 'session',
  scopes: ['read', 'write'],
});

/** Audit rows as the request role sees them for an actor (the tenant path). */
const visibleTo = (actor: Actor) =>
  withTenant(t.database, actor, (tx) => tx.select().from(auditLog));

/** Runs fn and returns the Postgres error code it failed with (or null). */
async function pgError(fn: () => Promise<unknown>): Promise<string | null> {
  try {
    await fn();
    return null;
  } catch (err) {
    const e = err as { code?: string; cause?: { code?: string } };
    return e.code ?? e.cause?.code ?? 'unknown';
  }
}

function remember(user: TestUser): TestUser {
  secrets.push(user.password, user.accessToken, user.refreshToken);
  return user;
}

/** Request ids of writes made by alice and by bob, for the visibility tests. */
const aliceRequests: string[] = [];
const bobRequests: string[] = [];

beforeAll(async () => {
  t = await createTestApp();
  app = t.app;
  admin = remember(await setupAdmin(app));
  alice = remember(await createUser(app, admin));
  bob = remember(await createUser(app, admin));
});

afterAll(async () => {
  await t?.close();
});

describe('user events', () => {
  it('user.create: actor, ip, request id, the new user, and no password', async () => {
    const rid = newRequestId();
    const username = randomName('audited');
    const password = randomPassword();
    secrets.push(password);
    const res = await send('POST', '/api/v1/users', admin.accessToken, rid, {
      username,
      email: `${username}@example.com`,
      password,
    });
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json().id;
    expect(await onlyRow(rid)).toMatchObject({
      action: 'user.create',
      actor_type: 'user',
      actor_id: admin.id,
      actor_name: admin.username,
      entity_type: 'user',
      entity_id: id,
      owner_id: id,
      ip: IP,
      request_id: rid,
      details: { username, role: 'user' },
    });
    expect(JSON.stringify(await rowsOf(rid))).not.toContain(password);
  });

  it('user.update: lists the changed fields, notes a password reset, never the password', async () => {
    const u = remember(await createUser(app, admin));
    const rid = newRequestId();
    const password = randomPassword();
    secrets.push(password);
    const email = `${randomName('moved')}@example.org`;
    const res = await send('PATCH', `/api/v1/users/${u.id}`, admin.accessToken, rid, {
      email,
      password,
      unlock: true,
    });
    expect(res.statusCode, res.body).toBe(200);
    const row = await onlyRow(rid);
    expect(row).toMatchObject({
      action: 'user.update',
      actor_type: 'user',
      actor_id: admin.id,
      entity_type: 'user',
      entity_id: u.id,
      owner_id: u.id,
      ip: IP,
      request_id: rid,
      details: { password_reset: true },
    });
    expect([...(row.details.fields as string[])].sort()).toEqual(['email', 'unlock']);
    // The user had one open session, which the reset ended.
    expect(row.details.ended_sessions).toBe(1);
    expect(Object.keys(row.details).filter((k) => /^password$|hash/.test(k))).toEqual([]);
    const text = JSON.stringify(row);
    expect(text).not.toContain(password);
    expect(text).not.toContain(u.password);
    expect(text).not.toMatch(/argon2/);

    const rid2 = newRequestId();
    const role = await send('PATCH', `/api/v1/users/${u.id}`, admin.accessToken, rid2, {
      role: 'admin',
      is_active: true,
    });
    expect(role.statusCode, role.body).toBe(200);
    const row2 = await onlyRow(rid2);
    expect(row2.details).toMatchObject({ role: 'admin', is_active: true });
    expect([...(row2.details.fields as string[])].sort()).toEqual(['is_active', 'role']);
    expect(row2.details).not.toHaveProperty('password_reset');
    const back = await send('PATCH', `/api/v1/users/${u.id}`, admin.accessToken, newRequestId(), {
      role: 'user',
    });
    expect(back.statusCode).toBe(200);
  });

  it("user.delete: recorded after the user is gone; the user's earlier entries are kept", async () => {
    const createRid = newRequestId();
    const username = randomName('leaving');
    const password = randomPassword();
    secrets.push(password);
    const created = await send('POST', '/api/v1/users', admin.accessToken, createRid, {
      username,
      email: `${username}@example.com`,
      password,
    });
    expect(created.statusCode).toBe(201);
    const id = created.json().id;

    const rid = newRequestId();
    const res = await send('DELETE', `/api/v1/users/${id}`, admin.accessToken, rid);
    expect(res.statusCode, res.body).toBe(204);
    expect(await onlyRow(rid)).toMatchObject({
      action: 'user.delete',
      actor_type: 'user',
      actor_id: admin.id,
      entity_type: 'user',
      entity_id: id,
      owner_id: null,
      ip: IP,
      request_id: rid,
      details: { username },
    });
    // The trail survives the user (owner_id is cleared, the entry stays).
    expect(await onlyRow(createRid)).toMatchObject({
      action: 'user.create',
      entity_id: id,
      owner_id: null,
    });
  });

  it('attributes a change made with a personal token to the token', async () => {
    const pat = await createToken(app, admin, { scopes: ['read', 'write'] });
    secrets.push(pat.token);
    const rid = newRequestId();
    const username = randomName('bytoken');
    const password = randomPassword();
    secrets.push(password);
    const res = await send('POST', '/api/v1/users', pat.token, rid, {
      username,
      email: `${username}@example.com`,
      password,
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(await onlyRow(rid)).toMatchObject({
      action: 'user.create',
      actor_type: 'token',
      actor_id: admin.id,
      actor_name: admin.username,
      ip: IP,
      details: { username, token_id: pat.id },
    });
  });

  it('writes nothing for a refused or failed change (the entry commits with the change)', async () => {
    const dup = newRequestId();
    const res = await send('POST', '/api/v1/users', admin.accessToken, dup, {
      username: alice.username.toUpperCase(),
      email: `${randomName('dup')}@example.com`,
      password: randomPassword(),
    });
    expectProblem(res, 409, 'username_taken');
    expect(await rowsOf(dup)).toEqual([]);

    const last = newRequestId();
    expectProblem(
      await send('PATCH', `/api/v1/users/${admin.id}`, admin.accessToken, last, { role: 'user' }),
      409,
      'last_admin',
    );
    expect(await rowsOf(last)).toEqual([]);

    const forbidden = newRequestId();
    expectProblem(
      await send('PATCH', `/api/v1/users/${bob.id}`, alice.accessToken, forbidden, {
        role: 'admin',
      }),
      403,
      'admin_only',
    );
    expect(await rowsOf(forbidden)).toEqual([]);
  });
});

describe('token events', () => {
  it('token.create: the owner as actor, name and scopes, never the token', async () => {
    for (const [user, requests] of [
      [alice, aliceRequests],
      [bob, bobRequests],
    ] as const) {
      const rid = newRequestId();
      const name = randomName('audited-token');
      const res = await send('POST', '/api/v1/tokens', user.accessToken, rid, {
        name,
        scopes: ['read'],
        expires_in_days: 7,
      });
      expect(res.statusCode, res.body).toBe(201);
      const { id, token, expires_at } = res.json();
      secrets.push(token);
      requests.push(rid);
      const row = await onlyRow(rid);
      expect(row).toMatchObject({
        action: 'token.create',
        actor_type: 'user',
        actor_id: user.id,
        actor_name: user.username,
        entity_type: 'api_token',
        entity_id: id,
        owner_id: user.id,
        ip: IP,
        request_id: rid,
        details: { name, scopes: ['read'], expires_at },
      });
      const text = JSON.stringify(row);
      expect(text).not.toContain(token);
      expect(text).not.toContain(token.slice(20));
    }
  });

  it('token.delete: by the owner with a token (actor_type token), and by an admin', async () => {
    const doomed = await createToken(app, alice, { name: randomName('doomed') });
    const pat = await createToken(app, alice, { scopes: ['write'] });
    secrets.push(doomed.token, pat.token);
    const rid = newRequestId();
    const res = await send('DELETE', `/api/v1/tokens/${doomed.id}`, pat.token, rid);
    expect(res.statusCode, res.body).toBe(204);
    aliceRequests.push(rid);
    expect(await onlyRow(rid)).toMatchObject({
      action: 'token.delete',
      actor_type: 'token',
      actor_id: alice.id,
      entity_type: 'api_token',
      entity_id: doomed.id,
      owner_id: alice.id,
      ip: IP,
      request_id: rid,
      details: { token_id: pat.id },
    });

    // An admin revoking alice's token: the entry concerns alice, so she sees it too.
    const rid2 = newRequestId();
    const byAdmin = await send('DELETE', `/api/v1/tokens/${pat.id}`, admin.accessToken, rid2);
    expect(byAdmin.statusCode, byAdmin.body).toBe(204);
    aliceRequests.push(rid2);
    expect(await onlyRow(rid2)).toMatchObject({
      action: 'token.delete',
      actor_type: 'user',
      actor_id: admin.id,
      entity_id: pat.id,
      owner_id: alice.id,
      ip: IP,
    });

    // Another user's attempt is a 404 and writes nothing.
    const other = await createToken(app, alice, { name: randomName('kept') });
    secrets.push(other.token);
    const rid3 = newRequestId();
    expectProblem(
      await send('DELETE', `/api/v1/tokens/${other.id}`, bob.accessToken, rid3),
      404,
      'not_found',
    );
    expect(await rowsOf(rid3)).toEqual([]);
  });
});

describe('reading the audit log through the tenant path', () => {
  it("shows a user their own entries and never another user's", async () => {
    expect(aliceRequests.length).toBeGreaterThanOrEqual(3);
    expect(bobRequests.length).toBeGreaterThanOrEqual(1);
    for (const [me, mine, theirs] of [
      [alice, aliceRequests, bobRequests],
      [bob, bobRequests, aliceRequests],
    ] as const) {
      const rows = await visibleTo(actorOf(me));
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.filter((r) => r.ownerId !== me.id)).toEqual([]);
      const seen = new Set(rows.map((r) => r.requestId));
      for (const rid of mine) expect(seen.has(rid), rid).toBe(true);
      for (const rid of theirs) expect(seen.has(rid), rid).toBe(false);
    }
    // An admin sees both; a request without a user sees nothing.
    const all = new Set((await visibleTo(actorOf(admin))).map((r) => r.requestId));
    for (const rid of [...aliceRequests, ...bobRequests]) expect(all.has(rid)).toBe(true);
    expect(await visibleTo({ kind: 'anonymous' })).toEqual([]);
  });

  it('refuses UPDATE and DELETE on audit_log to the request role (42501), admins included', async () => {
    const before = await ownerQuery<{ n: number }>(
      t.database,
      'SELECT count(*)::int AS n FROM audit_log',
    );
    for (const actor of [actorOf(alice), actorOf(admin)]) {
      const id = actor.kind === 'user' ? actor.userId : '';
      expect(
        await pgError(() =>
          withTenant(t.database, actor, (tx) =>
            tx.execute(sql`UPDATE audit_log SET action = 'tampered' WHERE owner_id = ${id}`),
          ),
        ),
      ).toBe('42501');
      expect(
        await pgError(() =>
          withTenant(t.database, actor, (tx) =>
            tx.execute(sql`DELETE FROM audit_log WHERE owner_id = ${id}`),
          ),
        ),
      ).toBe('42501');
      expect(
        await pgError(() =>
          withTenant(t.database, actor, (tx) => tx.execute(sql`TRUNCATE audit_log`)),
        ),
      ).toBe('42501');
    }
    // Nor may a user write an entry about someone else.
    expect(
      await pgError(() =>
        withTenant(t.database, actorOf(alice), (tx) =>
          tx.insert(auditLog).values({ ownerId: bob.id, actorType: 'user', action: 'forged' }),
        ),
      ),
    ).toBe('42501');
    const after = await ownerQuery<{ n: number; tampered: number }>(
      t.database,
      "SELECT count(*)::int AS n, count(*) FILTER (WHERE action IN ('tampered', 'forged'))::int AS tampered FROM audit_log",
    );
    expect(after[0]).toEqual({ n: before[0]?.n, tampered: 0 });
  });
});

describe('audit hygiene', () => {
  it('never holds a password or token used in this file', async () => {
    const text = await allAuditText(t.database);
    expect(text).toContain('user.update');
    expect(secrets.length).toBeGreaterThan(15);
    for (const secret of secrets) expect(text.includes(secret), secret).toBe(false);
  });
});
