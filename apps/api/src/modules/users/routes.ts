import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { and, asc, count, eq, gt, ilike, or, type SQL, sql } from 'drizzle-orm';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { hashPassword } from '../../crypto/passwords.js';
import { users } from '../../db/schema.js';
import { auditContext } from '../../http/auth-hooks.js';
import { decodeCursor, encodeCursor } from '../../http/cursor.js';
import { BadRequestError, NotFoundError } from '../../http/errors.js';
import { problemResponses } from '../../http/problem.js';
import { writeAudit } from '../audit/write-audit.js';
import { revokeSessions } from '../auth/sessions.js';
import { createUser } from './create-user.js';
import { ensureAnotherActiveAdmin, lockActiveAdmins } from './last-admin.js';
import { CreateUserBody, UpdateUserBody, UserList, UserRef, Uuid } from './schemas.js';
import { userConflict } from './user-conflict.js';
import { toUserDto } from './user-dto.js';

const IdParams = Type.Object({ id: Uuid });

const ListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
    q: Type.Optional(
      Type.String({ maxLength: 200, description: 'Part of the username or e-mail' }),
    ),
    role: Type.Optional(Type.Union([Type.Literal('admin'), Type.Literal('user')])),
    is_active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const routes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const admin = { auth: 'admin' as const };

  app.get(
    '/users',
    {
      config: admin,
      schema: {
        tags: ['users'],
        summary: 'List users',
        description: 'All users, ordered by username, with keyset pagination. Admins only.',
        querystring: ListQuery,
        response: { 200: UserList, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { limit, cursor, q, role, is_active } = request.query;
      const filters: Array<SQL | undefined> = [];
      if (q) {
        const like = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        filters.push(or(ilike(users.username, like), ilike(users.email, like)));
      }
      if (role) filters.push(eq(users.role, role));
      if (is_active !== undefined) filters.push(eq(users.isActive, is_active));
      const after = cursor ? decodeCursor(cursor, ['text', 'uuid']) : null;
      return app.tenant(request, async (tx) => {
        const where = and(...filters);
        const [total] = await tx.select({ n: count() }).from(users).where(where);
        const rows = await tx
          .select()
          .from(users)
          .where(
            and(
              where,
              after
                ? or(
                    gt(sql`lower(${users.username})`, after[0]),
                    and(eq(sql`lower(${users.username})`, after[0]), gt(users.id, after[1])),
                  )
                : undefined,
            ),
          )
          .orderBy(asc(sql`lower(${users.username})`), asc(users.id))
          .limit(limit + 1);
        const page = rows.slice(0, limit);
        const last = page.at(-1);
        return {
          items: page.map(toUserDto),
          next_cursor:
            rows.length > limit && last
              ? encodeCursor([last.username.toLowerCase(), last.id])
              : null,
          total: total?.n ?? 0,
        };
      });
    },
  );

  app.post(
    '/users',
    {
      config: admin,
      schema: {
        tags: ['users'],
        summary: 'Create a user',
        description: 'Creates a user (role user unless given). Admins only.',
        body: CreateUserBody,
        response: { 201: UserRef, ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const { username, email, password, role } = request.body;
      const passwordHash = await hashPassword(password);
      const user = await app
        .tenant(request, (tx) =>
          createUser(tx, auditContext(request), {
            username,
            email,
            passwordHash,
            role: role ?? 'user',
          }),
        )
        .catch((err) => {
          throw userConflict(err);
        });
      return reply.code(201).send(toUserDto(user));
    },
  );

  app.get(
    '/users/:id',
    {
      config: admin,
      schema: {
        tags: ['users'],
        summary: 'Get a user',
        description: 'Admins only.',
        params: IdParams,
        response: { 200: UserRef, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const [row] = await app.tenant(request, (tx) =>
        tx.select().from(users).where(eq(users.id, request.params.id)),
      );
      if (!row) throw new NotFoundError('user');
      return toUserDto(row);
    },
  );

  app.patch(
    '/users/:id',
    {
      config: admin,
      schema: {
        tags: ['users'],
        summary: 'Update a user',
        description:
          'Change username, e-mail or role; `is_active: false` deactivates (every session ends at once, the next ' +
          "request is refused); `password` sets a new password, ends the user's sessions and clears a lockout; " +
          '`unlock: true` clears a lockout. The last active admin cannot be demoted or deactivated. Admins only.',
        params: IdParams,
        body: UpdateUserBody,
        response: { 200: UserRef, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const body = request.body;
      const passwordHash = body.password ? await hashPassword(body.password) : undefined;
      const mayDropAdmin =
        (body.role !== undefined && body.role !== 'admin') || body.is_active === false;
      const row = await app
        .tenant(request, async (tx) => {
          if (mayDropAdmin) await lockActiveAdmins(tx);
          const [current] = await tx.select().from(users).where(eq(users.id, id)).for('update');
          if (!current) throw new NotFoundError('user');
          const losesAdmin =
            current.role === 'admin' &&
            current.isActive &&
            ((body.role !== undefined && body.role !== 'admin') || body.is_active === false);
          if (losesAdmin) await ensureAnotherActiveAdmin(tx, id);
          const set: Partial<typeof users.$inferInsert> = {};
          if (body.username !== undefined) set.username = body.username;
          if (body.email !== undefined) set.email = body.email;
          if (body.role !== undefined) set.role = body.role;
          if (body.is_active !== undefined) set.isActive = body.is_active;
          if (passwordHash) {
            set.passwordHash = passwordHash;
            set.passwordChangedAt = new Date();
          }
          if (passwordHash || body.unlock) {
            set.failedLoginCount = 0;
            set.lockedUntil = null;
          }
          const [updated] = await tx.update(users).set(set).where(eq(users.id, id)).returning();
          if (!updated) throw new NotFoundError('user');
          let endedSessions = 0;
          if (body.is_active === false || passwordHash) {
            endedSessions = await revokeSessions(tx, {
              userId: id,
              reason: body.is_active === false ? 'deactivated' : 'admin',
            });
          }
          const changed = Object.keys(body).filter((k) => k !== 'password');
          await writeAudit(tx, auditContext(request), {
            action: 'user.update',
            entityType: 'user',
            entityId: id,
            ownerId: id,
            details: {
              fields: changed,
              ...(passwordHash ? { password_reset: true } : {}),
              ...(body.role !== undefined ? { role: body.role } : {}),
              ...(body.is_active !== undefined ? { is_active: body.is_active } : {}),
              ...(endedSessions ? { ended_sessions: endedSessions } : {}),
            },
          });
          return updated;
        })
        .catch((err) => {
          throw userConflict(err);
        });
      // This process's cached credentials of the user go at once; other processes hear of
      // it through migration 0014's notification.
      app.deps.credentials.forget({ userId: id });
      return toUserDto(row);
    },
  );

  app.delete(
    '/users/:id',
    {
      config: admin,
      schema: {
        tags: ['users'],
        summary: 'Delete a user',
        description:
          'Deletes the user and everything they own. You cannot delete yourself or the last active admin; ' +
          'deactivate (PATCH is_active=false) to keep their data. Admins only.',
        params: IdParams,
        response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (request.actor.kind === 'user' && request.actor.userId === id) {
        throw new BadRequestError('You cannot delete your own user.', 'cannot_delete_self');
      }
      await app.tenant(request, async (tx) => {
        await lockActiveAdmins(tx);
        const [current] = await tx.select().from(users).where(eq(users.id, id)).for('update');
        if (!current) throw new NotFoundError('user');
        if (current.role === 'admin' && current.isActive) await ensureAnotherActiveAdmin(tx, id);
        await tx.delete(users).where(eq(users.id, id));
        await writeAudit(tx, auditContext(request), {
          action: 'user.delete',
          entityType: 'user',
          entityId: id,
          ownerId: null,
          details: { username: current.username },
        });
      });
      app.deps.credentials.forget({ userId: id });
      return reply.code(204).send(null);
    },
  );
};

export default routes;
