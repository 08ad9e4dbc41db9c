import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance, LightMyRequestResponse as Response } from 'fastify';
import { buildApp } from '../app.js';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import { users } from '../db/schema.js';
import { type Actor, rowsOf, withTenant } from '../db/tenant.js';
import { writeAudit } from '../modules/audit/write-audit.js';
import { signAccessToken } from '../modules/auth/access-token.js';
import { endSession, issueSession } from '../modules/auth/sessions.js';

export const CLI_USER_AGENT = 'accountdb-cli';

export interface ApiRequest {
  method: 'GET' | 'POST';
  url: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  payload?: string;
  /** Hand back the body as a stream (exports). */
  stream?: boolean;
}

/**
 * The API, in this process, as one user: the CLI's import and export go through the same
 * routes, validation, tenant transaction and audit as the web app, with no shortcut.
 */
export interface CliSession {
  user: { id: string; username: string; role: 'admin' | 'user' };
  request(req: ApiRequest): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Opens a login session for `login` (username or e-mail) as the login page does, audited
 * as `auth.login` from the CLI, and builds the app to send requests to. close() ends the
 * session (audited logout) and the app.
 */
export async function openCliSession(options: {
  config: Config;
  database: Database;
  login: string;
}): Promise<CliSession> {
  const { config, database } = options;
  const [found] = rowsOf<{ user_id: string; is_active: boolean }>(
    await database.ownerDb.execute(sql`SELECT * FROM cli_user_by_login(${options.login})`),
  );
  if (!found) throw new Error(`no user is called ${options.login}`);
  if (!found.is_active) throw new Error(`${options.login} is deactivated`);
  const userId = found.user_id;
  const self: Actor = {
    kind: 'user',
    userId,
    username: '',
    role: 'user',
    via: 'session',
    scopes: ['read', 'write'],
  };
  const session = await withTenant(database, self, async (tx) => {
    const [user] = await tx.select().from(users).where(eq(users.id, userId));
    if (!user) throw new Error(`no user is called ${options.login}`);
    const issued = await issueSession(tx, {
      user,
      jwtKey: config.jwtSecret,
      client: { ip: null, userAgent: CLI_USER_AGENT },
    });
    await writeAudit(
      tx,
      { actor: { ...self, username: user.username, role: user.role }, ip: null, requestId: null },
      {
        action: 'auth.login',
        entityType: 'session',
        entityId: issued.sessionId,
        details: { client: CLI_USER_AGENT },
      },
    );
    return issued;
  });

  let app: FastifyInstance | null = null;
  try {
    app = await buildApp({ config, database, logStream: false });
    await app.ready();
  } catch (err) {
    await endCliSession(database, userId, session.sessionId);
    throw err;
  }
  const ready = app;
  return {
    user: { id: userId, username: session.user.username, role: session.user.role },
    async request(req) {
      // Access tokens last 15 minutes; a long import or export signs a fresh one per request.
      const token = await signAccessToken(config.jwtSecret, {
        userId,
        sessionId: session.sessionId,
      });
      return ready.inject({
        method: req.method,
        url: req.url,
        ...(req.query ? { query: req.query } : {}),
        headers: {
          authorization: `Bearer ${token}`,
          'user-agent': CLI_USER_AGENT,
          ...req.headers,
        },
        ...(req.payload !== undefined ? { payload: req.payload } : {}),
        ...(req.stream ? { payloadAsStream: true } : {}),
      });
    },
    async close() {
      await ready.close();
      await endCliSession(database, userId, session.sessionId);
    },
  };
}

function endCliSession(database: Database, userId: string, sessionId: string) {
  return endSession({ database, userId, sessionId, audit: { ip: null, requestId: null } });
}

/** The problem+json detail of a refused request, or its status line. */
export function refusal(response: { statusCode: number; json(): unknown }): string {
  try {
    const problem = response.json() as {
      detail?: string;
      title?: string;
      errors?: Array<{ path: string; message: string }>;
    };
    const fields = problem.errors?.map((e) => `${e.path}: ${e.message}`).join('; ');
    return [problem.detail ?? problem.title ?? `HTTP ${response.statusCode}`, fields]
      .filter(Boolean)
      .join(' — ');
  } catch {
    return `HTTP ${response.statusCode}`;
  }
}
