import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import pg from 'pg';

/** The login role the API provisions when DATABASE_URL is the schema owner (migration 0007). */
export const AUTHENTICATOR_ROLE = 'accountdb_authenticator';

/** The password of the provisioned request login, derived from the context key. */
export function authenticatorPassword(contextKey: Buffer): string {
  return createHmac('sha256', contextKey)
    .update('accountdb_authenticator password')
    .digest('base64url');
}

/** What a request login is allowed to be; anything else stops the start. */
export interface RequestLoginFacts {
  role: string;
  superuser: boolean;
  createrole: boolean;
  bypassrls: boolean;
  replication: boolean;
  inherit: boolean;
  memberOfOwner: boolean;
  /** Roles it is a member of (it may only become accountdb_app). */
  memberOf: string[];
  /** Tables, functions and schemas of this database it owns (must be none). */
  owned: number;
  /** Whether it may read the context key (it must not: that is what makes a role "system"). */
  readsContextKey: boolean;
}

/** Run on a connection as the request login itself (catalogs are readable by everyone). */
export const REQUEST_LOGIN_FACTS_SQL = `
  SELECT r.rolname AS role, r.rolsuper AS superuser, r.rolcreaterole AS createrole,
         r.rolbypassrls AS bypassrls, r.rolreplication AS replication, r.rolinherit AS inherit,
         pg_catalog.pg_has_role(r.oid, (SELECT c.relowner FROM pg_catalog.pg_class c
                                        WHERE c.oid = 'public.users'::pg_catalog.regclass), 'MEMBER') AS member_of_owner,
         coalesce((SELECT pg_catalog.array_agg(g.rolname::text ORDER BY g.rolname)
                   FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                   WHERE m.member = r.oid), '{}') AS member_of,
         (SELECT count(*) FROM pg_catalog.pg_class c WHERE c.relowner = r.oid)
           + (SELECT count(*) FROM pg_catalog.pg_proc p WHERE p.proowner = r.oid)
           + (SELECT count(*) FROM pg_catalog.pg_namespace n WHERE n.nspowner = r.oid) AS owned,
         pg_catalog.has_any_column_privilege(r.oid, 'public.app_context_keys'::pg_catalog.regclass, 'SELECT')
           OR pg_catalog.has_any_column_privilege('accountdb_app', 'public.app_context_keys'::pg_catalog.regclass, 'SELECT')
           AS reads_context_key
  FROM pg_catalog.pg_roles r WHERE r.rolname = session_user`;

export function requestLoginFacts(row: Record<string, unknown>): RequestLoginFacts {
  return {
    role: String(row.role),
    superuser: row.superuser === true,
    createrole: row.createrole === true,
    bypassrls: row.bypassrls === true,
    replication: row.replication === true,
    inherit: row.inherit === true,
    memberOfOwner: row.member_of_owner === true,
    memberOf: (row.member_of as string[] | null) ?? [],
    owned: Number(row.owned),
    readsContextKey: row.reads_context_key === true,
  };
}

/** The facts of the login a pool connects as (the catalogs are readable by everyone). */
export async function inspectRequestLogin(pool: pg.Pool): Promise<RequestLoginFacts> {
  const { rows } = await pool.query(REQUEST_LOGIN_FACTS_SQL);
  const row = rows[0] as Record<string, unknown> | undefined;
  if (!row) throw new Error('the request login is not a role of this cluster');
  return requestLoginFacts(row);
}

/** Why a login must not carry requests; empty when it may. */
export function requestLoginProblems(facts: RequestLoginFacts): string[] {
  const problems: string[] = [];
  const who = `the request login ${facts.role}`;
  if (facts.superuser) problems.push(`${who} is a superuser`);
  if (facts.createrole) problems.push(`${who} has CREATEROLE (it could grant itself any role)`);
  if (facts.bypassrls) problems.push(`${who} has BYPASSRLS`);
  if (facts.replication) problems.push(`${who} has REPLICATION`);
  if (facts.memberOfOwner) problems.push(`${who} is (a member of) the owner of the tables`);
  if (facts.owned > 0) problems.push(`${who} owns ${facts.owned} object(s) in this database`);
  if (facts.readsContextKey) {
    problems.push(`${who} (or accountdb_app) may read app_context_keys, the context key`);
  }
  if (!facts.memberOf.includes('accountdb_app')) {
    problems.push(`${who} is not a member of accountdb_app`);
  }
  const others = facts.memberOf.filter((r) => r !== 'accountdb_app');
  if (others.length > 0) problems.push(`${who} can also become ${others.join(', ')}`);
  return problems;
}

/**
 * A SCRAM-SHA-256 verifier for a password (RFC 5802/7677, PostgreSQL's stored format), so the
 * password itself never travels in an ALTER ROLE statement that a statement log would keep.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16)): string {
  const iterations = 4096;
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

const AUTH_FAILED = new Set(['28P01', '28000']);

async function tryLogin(config: pg.ClientConfig): Promise<Error | null> {
  const client = new pg.Client(config);
  client.on('error', () => {});
  try {
    await client.connect();
    return null;
  } catch (err) {
    return err as Error;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Makes sure the provisioned login can log in with its derived password: when it cannot
 * (a new role, or a password set by another AccountDB database of the same cluster), the
 * owner sets it. The role itself comes from migration 0007.
 */
export async function provisionAuthenticator(options: {
  owner: pg.Pool;
  login: pg.ClientConfig & { password: string };
}): Promise<void> {
  const { owner, login } = options;
  const { rows } = await owner.query('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', [
    AUTHENTICATOR_ROLE,
  ]);
  if (rows.length === 0) {
    throw new Error(
      `the login role ${AUTHENTICATOR_ROLE} does not exist and DATABASE_URL's user may not create it: as a superuser run CREATE ROLE ${AUTHENTICATOR_ROLE} LOGIN NOINHERIT PASSWORD '…'; GRANT accountdb_app TO ${AUTHENTICATOR_ROLE}; then set DATABASE_URL to that login and DATABASE_OWNER_URL to the owner`,
    );
  }
  const first = await tryLogin(login);
  if (!first) return;
  if (!AUTH_FAILED.has((first as { code?: string }).code ?? '')) throw first;
  try {
    await owner.query(
      `ALTER ROLE ${AUTHENTICATOR_ROLE} PASSWORD '${scramVerifier(login.password)}'`,
    );
  } catch (err) {
    throw new Error(
      `cannot set the password of ${AUTHENTICATOR_ROLE} (${(err as Error).message}): give DATABASE_URL's user CREATEROLE, or set DATABASE_URL to a login of your own and DATABASE_OWNER_URL to the owner`,
    );
  }
  const second = await tryLogin(login);
  if (second) {
    throw new Error(
      `cannot log in as ${AUTHENTICATOR_ROLE} (${second.message}): allow it in pg_hba.conf like DATABASE_URL's user`,
    );
  }
}
