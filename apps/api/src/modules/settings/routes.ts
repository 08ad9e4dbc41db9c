import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { eq, sql } from 'drizzle-orm';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { appSettings } from '../../db/schema.js';
import { auditContext } from '../../http/auth-hooks.js';
import { NotFoundError } from '../../http/errors.js';
import { problemResponses } from '../../http/problem.js';
import { writeAudit } from '../audit/write-audit.js';

/** Instance-wide settings (one row of app_settings, migration 0018). Admins only. */

const Settings = Type.Object(
  {
    mfa_required: Type.Boolean({
      description:
        'Every user needs a second factor: one without gets, after the password, a login step that only ' +
        'lets them set one up',
    }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { examples: [{ mfa_required: true, updated_at: '2026-12-06T20:00:00.000Z' }] },
);

const SettingsPatch = Type.Object(
  { mfa_required: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, examples: [{ mfa_required: true }] },
);

const toDto = (row: typeof appSettings.$inferSelect) => ({
  mfa_required: row.mfaRequired,
  updated_at: row.updatedAt.toISOString(),
});

const routes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const admin = { auth: 'admin' as const };

  app.get(
    '/settings',
    {
      config: admin,
      schema: {
        tags: ['users'],
        summary: 'Instance settings',
        description: 'Settings that apply to every user. Admins only.',
        response: { 200: Settings, ...problemResponses(401, 403) },
      },
    },
    async (request) => {
      const [row] = await app.tenant(request, (tx) => tx.select().from(appSettings));
      if (!row) throw new NotFoundError('settings');
      return toDto(row);
    },
  );

  app.patch(
    '/settings',
    {
      config: admin,
      schema: {
        tags: ['users'],
        summary: 'Change instance settings',
        description:
          'mfa_required: true makes every user without a second factor set one up at their next login ' +
          '(sessions already open stay). Audited. Admins only.',
        body: SettingsPatch,
        response: { 200: Settings, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) =>
      app.tenant(request, async (tx) => {
        const { mfa_required } = request.body;
        const actor = request.actor;
        const [row] =
          mfa_required === undefined
            ? await tx.select().from(appSettings)
            : await tx
                .update(appSettings)
                .set({
                  mfaRequired: mfa_required,
                  updatedBy: actor.kind === 'user' ? actor.userId : null,
                  updatedAt: sql`now()`,
                })
                .where(eq(appSettings.id, 1))
                .returning();
        if (!row) throw new NotFoundError('settings');
        if (mfa_required !== undefined) {
          await writeAudit(tx, auditContext(request), {
            action: 'settings.update',
            entityType: 'settings',
            entityId: 'app',
            details: { mfa_required },
          });
        }
        return toDto(row);
      }),
  );
};

export default routes;
