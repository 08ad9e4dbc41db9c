import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { apiModule } from './api-modules.mjs';
import { BENCH_PASSWORD } from './db.mjs';

/**
 * The real API (buildApp) in this process over the benchmark database, listening on a free
 * loopback port, with logging off. Load generators run in child processes.
 */
export async function startApi(url, { poolMax = 10, env = {} } = {}) {
  const { loadConfig } = await apiModule.config();
  const { openDatabase } = await apiModule.client();
  const { buildApp } = await apiModule.app();
  const config = loadConfig({
    NODE_ENV: 'production',
    DATABASE_URL: url,
    ACCOUNTDB_DATA_DIR: path.join(tmpdir(), 'accountdb-bench-unused'),
    ACCOUNTDB_SECRET_KEY: randomBytes(32).toString('base64'),
    ACCOUNTDB_JWT_SECRET: randomBytes(32).toString('base64'),
    COOKIE_SECURE: 'false',
    LOG_LEVEL: 'silent',
    API_PORT: '0',
    ...env,
  });
  const database = await openDatabase({ url, poolMax });
  const app = await buildApp({
    config,
    database,
    logStream: false,
    limits: { loginPerIp: 10_000, loginPerName: 10_000 },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address();
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    poolMax,
    async login(username) {
      const res = await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: BENCH_PASSWORD }),
      });
      if (!res.ok) throw new Error(`login as ${username}: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()).access_token;
    },
    async close() {
      await app.close();
      await database.close();
    },
  };
}

/**
 * Runs fn (one request at a time, nothing else in flight) and returns every statement the
 * API sent to PostgreSQL meanwhile, as {text, values}: the exact SQL behind one request.
 */
export async function captureSql(fn) {
  const statements = [];
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function capture(config, values, callback) {
    if (typeof config === 'string') statements.push({ text: config, values: values ?? [] });
    else if (config && typeof config.text === 'string') {
      statements.push({ text: config.text, values: config.values ?? values ?? [] });
    }
    return original.call(this, config, values, callback);
  };
  try {
    await fn();
  } finally {
    pg.Client.prototype.query = original;
  }
  return statements;
}

/** One JSON request to the API (`token` optional); anything but 2xx throws with the answer. */
export async function apiCall(base, path, { token, method = 'GET', body } = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}
