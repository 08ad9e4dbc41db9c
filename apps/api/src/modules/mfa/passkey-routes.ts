import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { DataKeyStore } from '../../crypto/data-keys.js';
import { mfaPasskeys, mfaRecoveryCodes, users } from '../../db/schema.js';
import type { Tx } from '../../db/tenant.js';
import { auditContext } from '../../http/auth-hooks.js';
import { BadRequestError, ConflictError, NotFoundError } from '../../http/errors.js';
import { problemResponses } from '../../http/problem.js';
import { writeAudit } from '../audit/write-audit.js';
import { Uuid } from '../users/schemas.js';
import { mfaStatus, type SecondFactorMethod, verifySecondFactor } from './factors.js';
import {
  authenticationOptions,
  listPasskeys,
  newChallenge,
  openPasskeyChallenge,
  type PasskeyRow,
  registrationOptions,
  takePasskeyChallenge,
  useUserPasskey,
  verifyRegistration,
  type WebAuthnConfig,
} from './passkeys.js';
import { replaceRecoveryCodes } from './recovery-codes.js';
import {
  FreshFactorBody,
  NewPasskeyBody,
  NewPasskeyResponse,
  PasskeyList,
  PasskeyOptionsResponse,
  Passkey as PasskeySchema,
  RenamePasskeyBody,
} from './schemas.js';

/**
 * Settings → Security: the signed-in user's passkeys. Session only, like the other factor
 * routes. Adding one when the user already has a second factor, and removing one, need a fresh
 * second factor in the same request: a code (authenticator app or recovery code) or a passkey
 * assertion for POST /auth/mfa/passkeys/verify-options. A passkey of another user answers 404.
 */

const PASSKEY_BODY_BYTES = 64 * 1024;

export const passkeyDto = (p: PasskeyRow) => ({
  id: p.id,
  name: p.name,
  device_type: p.deviceType,
  backed_up: p.backedUp,
  transports: p.transports,
  created_at: p.createdAt.toISOString(),
  last_used_at: p.lastUsedAt?.toISOString() ?? null,
});

export interface Proof {
  code?: string;
  passkey?: { challenge_id: string; credential: unknown };
}

type ProofOutcome = SecondFactorMethod | 'missing' | 'wrong';

/**
 * Checks (and uses up) the fresh second factor of a request: `code` (app or recovery code) or
 * `passkey` (an assertion for a 'verify' challenge; a counter regression is audited).
 */
export async function checkFreshFactor(
  tx: Tx,
  options: {
    request: FastifyRequest;
    keys: DataKeyStore;
    config: WebAuthnConfig;
    ownerId: string;
    proof: Proof;
  },
): Promise<ProofOutcome> {
  const { proof, ownerId } = options;
  if (proof.code !== undefined) {
    return (
      (await verifySecondFactor(tx, { keys: options.keys, ownerId, code: proof.code })) ?? 'wrong'
    );
  }
  if (proof.passkey) {
    const used = await useUserPasskey(tx, {
      config: options.config,
      ownerId,
      purpose: 'verify',
      challengeId: proof.passkey.challenge_id,
      response: proof.passkey.credential as AuthenticationResponseJSON,
    });
    if (used.ok) return 'webauthn';
    if (used.reason === 'counter_regression' && used.passkey) {
      await writeAudit(tx, auditContext(options.request), {
        action: 'mfa.passkey.counter_regression',
        entityType: 'passkey',
        entityId: used.passkey.id,
        details: { name: used.passkey.name, stored_counter: used.passkey.signCount },
      });
    }
    return 'wrong';
  }
  return 'missing';
}

export function registerPasskeyRoutes(fastify: FastifyInstance): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { keys, config } = app.deps;
  const self = { sessionOnly: true };
  // Checks of a factor share the per-user limit of the other factor routes (auth-mfa);
  // options and the list have their own, looser one.
  const perUserCheck = app.rateLimit({
    max: 10,
    timeWindow: 60_000,
    groupId: 'auth-mfa',
    keyGenerator: (req) => `mfa:${req.actor.kind === 'user' ? req.actor.userId : req.ip}`,
  });
  const perUserOptions = app.rateLimit({
    max: 30,
    timeWindow: 60_000,
    groupId: 'auth-mfa-passkey-options',
    keyGenerator: (req) => `mfa-pk:${req.actor.kind === 'user' ? req.actor.userId : req.ip}`,
  });
  const userIdOf = (request: FastifyRequest) => {
    if (request.actor.kind !== 'user') throw new NotFoundError('user');
    return request.actor.userId;
  };

  const oneProof = (proof: Proof) => {
    if (proof.code !== undefined && proof.passkey !== undefined) {
      throw new BadRequestError('Send either code or passkey, not both.', 'bad_request', [
        { path: '/body/passkey', message: 'must not be sent with code' },
      ]);
    }
  };

  const blankName = (name: string) => {
    if (name.trim() === '') {
      throw new BadRequestError('The name must not be only spaces.', 'bad_request', [
        { path: '/body/name', message: 'must not be only spaces' },
      ]);
    }
  };

  const checkProof = (tx: Tx, request: FastifyRequest, ownerId: string, proof: Proof) =>
    checkFreshFactor(tx, { request, keys, config: config.webauthn, ownerId, proof });

  const failedFactor = async (tx: Tx, request: FastifyRequest, during: string) => {
    await writeAudit(tx, auditContext(request), {
      action: 'auth.mfa_failed',
      entityType: 'user',
      entityId: userIdOf(request),
      details: { during },
    });
  };

  const wrongFactor = () =>
    new BadRequestError(
      'The second factor is wrong or was used already.',
      'invalid_second_factor',
      [{ path: '/body', message: 'code or passkey is wrong or was used already' }],
    );
  const factorRequired = () =>
    new BadRequestError(
      'This change needs a fresh second factor: a code, or a passkey assertion.',
      'second_factor_required',
      [{ path: '/body/code', message: 'is required (or passkey)' }],
    );

  app.get(
    '/auth/mfa/passkeys',
    {
      config: self,
      schema: {
        tags: ['auth'],
        summary: 'Your passkeys',
        description:
          'The passkeys you can log in with: name, whether the authenticator syncs or backs them up, when ' +
          'added and last used. Never a key or credential id.',
        response: { 200: PasskeyList, ...problemResponses(401, 403) },
      },
    },
    async (request) =>
      app.tenant(request, async (tx) => ({
        items: (await listPasskeys(tx, userIdOf(request))).map(passkeyDto),
      })),
  );

  app.post(
    '/auth/mfa/passkeys/options',
    {
      config: self,
      onRequest: perUserOptions,
      schema: {
        tags: ['auth'],
        summary: 'Start adding a passkey',
        description:
          'WebAuthn registration options (a discoverable credential with user verification, your existing ' +
          'passkeys excluded) for @simplewebauthn/browser startRegistration(), and the challenge_id to send ' +
          'back with the new credential to POST /auth/mfa/passkeys. The challenge is stored server-side, ' +
          'valid 5 minutes, used once.',
        body: Type.Object({}, { additionalProperties: false }),
        response: { 200: PasskeyOptionsResponse, ...problemResponses(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      const ownerId = userIdOf(request);
      const started = await app.tenant(request, async (tx) => {
        const [user] = await tx.select().from(users).where(eq(users.id, ownerId));
        if (!user) throw new NotFoundError('user');
        const challenge = newChallenge();
        const challengeId = await openPasskeyChallenge(tx, {
          ownerId,
          purpose: 'register',
          challenge,
        });
        const options = await registrationOptions({
          config: config.webauthn,
          user,
          existing: await listPasskeys(tx, ownerId),
          challenge,
        });
        return { challenge_id: challengeId, options };
      });
      reply.header('cache-control', 'no-store');
      return started;
    },
  );

  app.post(
    '/auth/mfa/passkeys/verify-options',
    {
      config: self,
      onRequest: perUserOptions,
      schema: {
        tags: ['auth'],
        summary: 'Prove a passkey before a change',
        description:
          'WebAuthn assertion options for your passkeys and a challenge_id: the answer, sent as `passkey` ' +
          '({challenge_id, credential}) in a change that needs a fresh second factor (adding or removing a ' +
          'passkey), proves it instead of a code. 409 no_passkeys when you have none.',
        body: Type.Object({}, { additionalProperties: false }),
        response: { 200: PasskeyOptionsResponse, ...problemResponses(400, 401, 403, 409, 429) },
      },
    },
    async (request, reply) => {
      const ownerId = userIdOf(request);
      const started = await app.tenant(request, async (tx) => {
        const passkeys = await listPasskeys(tx, ownerId);
        if (passkeys.length === 0) {
          throw new ConflictError('You have no passkey to prove.', 'no_passkeys');
        }
        const challenge = newChallenge();
        const challengeId = await openPasskeyChallenge(tx, {
          ownerId,
          purpose: 'verify',
          challenge,
        });
        const options = await authenticationOptions({
          config: config.webauthn,
          allow: passkeys,
          challenge,
        });
        return { challenge_id: challengeId, options };
      });
      reply.header('cache-control', 'no-store');
      return started;
    },
  );

  app.post(
    '/auth/mfa/passkeys',
    {
      config: self,
      bodyLimit: PASSKEY_BODY_BYTES,
      onRequest: perUserCheck,
      schema: {
        tags: ['auth'],
        summary: 'Add a passkey',
        description:
          'Registers the credential startRegistration() made for the options of POST /auth/mfa/passkeys/options ' +
          '(attestation "none"; challenge, origin, RP ID, user presence and verification checked), under a ' +
          'name. When you already have a second factor, the request must carry a fresh one: `code` (app or ' +
          'recovery code) or `passkey` (an assertion for POST /auth/mfa/passkeys/verify-options). When it is ' +
          'your first second factor, the answer carries ten recovery codes, shown once, and from the next ' +
          'login on a passkey is asked after the password (or logs you in alone: POST /auth/login/passkey). ' +
          'Audited as mfa.passkey.add. 400 passkey_invalid for a refused credential or an unknown, used or ' +
          'expired challenge_id; 400 second_factor_required / invalid_second_factor; 409 passkey_exists for ' +
          'a credential registered already.',
        body: NewPasskeyBody,
        response: { 201: NewPasskeyResponse, ...problemResponses(400, 401, 403, 409, 413, 429) },
      },
    },
    async (request, reply) => {
      const ownerId = userIdOf(request);
      const { body } = request;
      oneProof(body);
      blankName(body.name);
      const outcome = await app.tenant(request, async (tx) => {
        const status = await mfaStatus(tx, ownerId);
        const hasFactor = status.totp.enabled || status.passkeys > 0;
        if (hasFactor && body.code === undefined && body.passkey === undefined) {
          return { error: 'missing' as const };
        }
        const expected = await takePasskeyChallenge(tx, {
          ownerId,
          purpose: 'register',
          challengeId: body.challenge_id,
        });
        const created = expected
          ? await verifyRegistration({
              config: config.webauthn,
              response: body.credential as RegistrationResponseJSON,
              expectedChallenge: expected,
            })
          : null;
        if (!created) {
          await failedFactor(tx, request, 'passkey_add');
          return { error: 'invalid' as const };
        }
        let provedWith: SecondFactorMethod | null = null;
        if (hasFactor) {
          const proof = await checkProof(tx, request, ownerId, body);
          if (proof === 'missing') return { error: 'missing' as const };
          if (proof === 'wrong') {
            await failedFactor(tx, request, 'passkey_add');
            return { error: 'wrong' as const };
          }
          provedWith = proof;
        }
        const [row] = await tx
          .insert(mfaPasskeys)
          .values({
            ownerId,
            credentialId: created.credentialId,
            publicKey: created.publicKey,
            signCount: created.signCount,
            transports: created.transports,
            name: body.name.trim(),
            deviceType: created.deviceType,
            backedUp: created.backedUp,
          })
          .onConflictDoNothing({ target: mfaPasskeys.credentialId })
          .returning();
        if (!row) return { error: 'exists' as const };
        const recoveryCodes = hasFactor ? undefined : await replaceRecoveryCodes(tx, ownerId);
        await writeAudit(tx, auditContext(request), {
          action: 'mfa.passkey.add',
          entityType: 'passkey',
          entityId: row.id,
          details: {
            name: row.name,
            device_type: row.deviceType,
            backed_up: row.backedUp,
            ...(provedWith ? { proved_with: provedWith } : { first_factor: true }),
            ...(recoveryCodes ? { recovery_codes: recoveryCodes.length } : {}),
          },
        });
        return { row, recoveryCodes };
      });
      if ('error' in outcome) {
        switch (outcome.error) {
          case 'missing':
            throw factorRequired();
          case 'wrong':
            throw wrongFactor();
          case 'exists':
            throw new ConflictError('This passkey is registered already.', 'passkey_exists');
          default:
            throw new BadRequestError(
              'The passkey was not accepted (or its challenge is unknown, used or expired); start again.',
              'passkey_invalid',
              [{ path: '/body/credential', message: 'was not accepted' }],
            );
        }
      }
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({
        passkey: passkeyDto(outcome.row),
        ...(outcome.recoveryCodes ? { recovery_codes: outcome.recoveryCodes } : {}),
      });
    },
  );

  const IdParams = Type.Object({ id: Uuid });

  app.patch(
    '/auth/mfa/passkeys/:id',
    {
      config: self,
      schema: {
        tags: ['auth'],
        summary: 'Rename a passkey',
        description: 'Changes the name of one of your passkeys (audited as mfa.passkey.rename).',
        params: IdParams,
        body: RenamePasskeyBody,
        response: { 200: PasskeySchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const ownerId = userIdOf(request);
      blankName(request.body.name);
      return app.tenant(request, async (tx) => {
        const [before] = await tx
          .select()
          .from(mfaPasskeys)
          .where(and(eq(mfaPasskeys.id, request.params.id), eq(mfaPasskeys.ownerId, ownerId)));
        if (!before) throw new NotFoundError('passkey');
        const [row] = await tx
          .update(mfaPasskeys)
          .set({ name: request.body.name.trim() })
          .where(and(eq(mfaPasskeys.id, before.id), eq(mfaPasskeys.ownerId, ownerId)))
          .returning();
        if (!row) throw new NotFoundError('passkey');
        await writeAudit(tx, auditContext(request), {
          action: 'mfa.passkey.rename',
          entityType: 'passkey',
          entityId: row.id,
          details: { from: before.name, to: row.name },
        });
        return passkeyDto(row);
      });
    },
  );

  app.post(
    '/auth/mfa/passkeys/:id/remove',
    {
      config: self,
      bodyLimit: PASSKEY_BODY_BYTES,
      onRequest: perUserCheck,
      schema: {
        tags: ['auth'],
        summary: 'Remove a passkey',
        description:
          'Needs a fresh second factor in the same request, like turning the authenticator app off: `code` ' +
          '(app or recovery code) or `passkey` (an assertion for POST /auth/mfa/passkeys/verify-options; the ' +
          'passkey being removed may prove it). When no second factor is left, the recovery codes go too. ' +
          'Audited as mfa.passkey.remove. 404 for a passkey that is not yours.',
        params: IdParams,
        body: FreshFactorBody,
        response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404, 413, 429) },
      },
    },
    async (request, reply) => {
      const ownerId = userIdOf(request);
      oneProof(request.body);
      const outcome = await app.tenant(request, async (tx) => {
        const [row] = await tx
          .select()
          .from(mfaPasskeys)
          .where(and(eq(mfaPasskeys.id, request.params.id), eq(mfaPasskeys.ownerId, ownerId)));
        if (!row) return 'not_found' as const;
        const proof = await checkProof(tx, request, ownerId, request.body);
        if (proof === 'missing') return 'missing' as const;
        if (proof === 'wrong') {
          await failedFactor(tx, request, 'passkey_remove');
          return 'wrong' as const;
        }
        await tx
          .delete(mfaPasskeys)
          .where(and(eq(mfaPasskeys.id, row.id), eq(mfaPasskeys.ownerId, ownerId)));
        const left = await mfaStatus(tx, ownerId);
        const lastFactor = !left.totp.enabled && left.passkeys === 0;
        if (lastFactor) {
          await tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.ownerId, ownerId));
        }
        await writeAudit(tx, auditContext(request), {
          action: 'mfa.passkey.remove',
          entityType: 'passkey',
          entityId: row.id,
          details: { name: row.name, proved_with: proof, last_factor: lastFactor },
        });
        return 'removed' as const;
      });
      if (outcome === 'not_found') throw new NotFoundError('passkey');
      if (outcome === 'missing') throw factorRequired();
      if (outcome === 'wrong') throw wrongFactor();
      return reply.code(204).send(null);
    },
  );
}
