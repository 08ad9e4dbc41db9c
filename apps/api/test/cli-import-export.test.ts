import { PassThrough } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCliSession } from '../src/cli/cli-session.js';
import { exportFailure, exportResource, parseFilters } from '../src/cli/export-resource.js';
import { importResource } from '../src/cli/import-resource.js';
import { batchesOf, detectInputFormat, jsonElements, splitInput } from '../src/cli/split-input.js';
import { LIMITS } from '../src/http/limits.js';
import { outcome, refresh } from './helpers/auth-helpers.js';
import { createUser, randomName, type TestUser } from './helpers/factories.js';
import { ownerQuery } from './helpers/support.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

/**
 * `accountdb export` / `import`: the CLI goes through the API in-process as the named user
 * (a real login session, ended afterwards), so tenancy, validation and audit are the API's.
 */
let t: TestApp;
let alice: TestUser;
let bob: TestUser;
let admin: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, alice, bob, admin, call } = await twoUsers());
});
afterAll(async () => t?.close());

const session = (login: string) =>
  openCliSession({ config: t.config, database: t.database, login });

async function exportAll(
  login: string,
  resource: 'accounts' | 'hardware' | 'cards',
  format: 'json' | 'csv',
  query = {},
) {
  const s = await session(login);
  const out = new PassThrough();
  const body = text(out);
  const progress: number[] = [];
  try {
    const result = await exportResource({
      session: s,
      resource,
      format,
      query,
      out,
      onProgress: (done) => progress.push(done),
    });
    out.end();
    return { result, body: await body, progress };
  } finally {
    await s.close();
  }
}

async function importFile(
  login: string,
  options: Omit<Parameters<typeof importResource>[0], 'session'>,
) {
  const s = await session(login);
  try {
    return await importResource({ ...options, session: s });
  } finally {
    await s.close();
  }
}

describe('splitting an input file', () => {
  it('keeps JSON elements as written, brackets and commas inside strings included', () => {
    const file = '[\n {"a": "x, ] }", "n": 76561198000000001},\n {"b": [1, {"c": "\\"]"}]}\n]\n';
    expect(jsonElements(file).map((e) => e.text)).toEqual([
      '{"a": "x, ] }", "n": 76561198000000001}',
      '{"b": [1, {"c": "\\"]"}]}',
    ]);
    expect(() => jsonElements('[{"a": 1},')).toThrow(/not closed/);
    expect(jsonElements(' {"one": true} ')).toEqual([{ text: '{"one": true}', row: 1 }]);
  });

  it('keeps CSV records with quoted line breaks whole, with their line numbers', () => {
    const split = splitInput('csv', 'username,notes\r\na,"two\r\nlines"\r\n\r\nb,x\r\n');
    expect(split.header).toBe('username,notes\r\n');
    expect(split.records).toEqual([
      { text: 'a,"two\r\nlines"\r\n', row: 2 },
      { text: 'b,x\r\n', row: 5 },
    ]);
  });

  it('tells the format from the extension, else the content', () => {
    expect(detectInputFormat('x.jsonl', '')).toBe('jsonl');
    expect(detectInputFormat('-', '[{"a":1}]')).toBe('json');
    expect(detectInputFormat('-', '{"a":1}\n{"a":2}\n')).toBe('jsonl');
    expect(detectInputFormat('-', '{\n "a": 1\n}\n')).toBe('json');
    expect(detectInputFormat('codes.txt', 'AAAA')).toBe('text');
    expect(detectInputFormat('-', 'username,password\n')).toBe('csv');
    expect(parseFilters(['status=active', 'tag=a', 'tag=b=c'])).toEqual({
      status: 'active',
      tag: ['a', 'b=c'],
    });
  });
});

describe('accountdb export', () => {
  it("writes the user's rows only, secrets only when asked, and audits it from the CLI", async () => {
    const mine = randomName('acct');
    for (let i = 0; i < 3; i++) {
      const res = await call(alice, 'POST', '/accounts', {
        username: `${mine}-${i}`,
        password: `secret-${mine}-${i}`,
        tags: i === 2 ? ['cli', mine] : ['cli'],
      });
      expect(res.statusCode).toBe(201);
    }
    const theirs = randomName('bobacct');
    expect((await call(bob, 'POST', '/accounts', { username: theirs })).statusCode).toBe(201);

    const plain = await exportAll(alice.username, 'accounts', 'json');
    const rows = JSON.parse(plain.body) as Array<{ username: string; has_password: boolean }>;
    expect(rows.map((r) => r.username).sort()).toEqual([0, 1, 2].map((i) => `${mine}-${i}`));
    expect(plain.result.rows).toBe(3);
    expect(plain.progress.at(-1)).toBe(3);
    expect(plain.body).not.toContain(theirs);
    expect(plain.body).not.toContain(`secret-${mine}`);
    expect(rows[0]?.has_password).toBe(true);

    const secret = await exportAll(alice.email, 'accounts', 'csv', { include_secrets: 'true' });
    expect(secret.result.rows).toBe(3);
    expect(secret.body).toContain(`secret-${mine}-1`);

    const filtered = await exportAll(alice.username, 'accounts', 'json', { tag: mine });
    expect(JSON.parse(filtered.body)).toHaveLength(1);

    const audit = await ownerQuery<{ action: string; details: Record<string, unknown> }>(
      t.database,
      `SELECT action, details FROM audit_log WHERE actor_id = '${alice.id}' ORDER BY at`,
    );
    const actions = audit.map((a) => a.action);
    expect(actions.filter((a) => a === 'account.export')).toHaveLength(3);
    expect(
      audit.filter((a) => a.action === 'auth.login' && a.details.client === 'accountdb-cli'),
    ).toHaveLength(3);
    expect(actions.filter((a) => a === 'auth.logout')).toHaveLength(3);
    expect(audit.find((a) => a.details.include_secrets === true)?.action).toBe('account.export');
  });

  it('refuses a bad filter with the API’s message and an unknown or deactivated user', async () => {
    await expect(
      exportAll(alice.username, 'accounts', 'json', { status: 'sleeping' }),
    ).rejects.toThrow(/accounts: .*status/);
    await expect(session('nobody-here-at-all')).rejects.toThrow('no user is called');
    const carol = randomName('carol');
    const created = await call(admin, 'POST', '/users', {
      username: carol,
      email: `${carol}@example.test`,
      password: 'a long enough password',
      role: 'user',
    });
    expect(created.statusCode).toBe(201);
    const id = (created.json() as { id: string }).id;
    expect((await call(admin, 'PATCH', `/users/${id}`, { is_active: false })).statusCode).toBe(200);
    await expect(session(carol)).rejects.toThrow('is deactivated');
  });

  it('stops with the error when the export meets a row it cannot read', async () => {
    const user = await createUser(t.app, admin);
    const made = await call(user, 'POST', '/cards/bulk', {
      items: Array.from({ length: 1002 }, () => ({ code1: randomName('code') })),
    });
    expect(made.statusCode, made.body).toBe(200);
    // The last card in the export's order (created_at, then id) gets another card's
    // ciphertext: bound to another row, it does not decrypt.
    await ownerQuery(
      t.database,
      `UPDATE cards SET code1_enc = (SELECT code1_enc FROM cards WHERE owner_id = $1 ORDER BY created_at, id LIMIT 1)
       WHERE id = (SELECT id FROM cards WHERE owner_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1)`,
      [user.id],
    );
    for (const format of ['json', 'csv'] as const) {
      await expect(
        exportAll(user.username, 'cards', format, { include_codes: 'true' }),
      ).rejects.toThrow(
        /^cards: the export failed and is incomplete: The export stopped after 1000 row\(s\) because of an error; this file is incomplete\. Quote request id \S+ when reporting it\.$/,
      );
    }
    // Without the codes nothing is decrypted, and the same export completes.
    const plain = await exportAll(user.username, 'cards', 'csv');
    expect(plain.result.rows).toBe(1002);
    // A bad row in the first page: the API refuses before the file starts.
    const small = await createUser(t.app, admin);
    const few = (
      await call(small, 'POST', '/cards/bulk', {
        items: [{ code1: randomName('c') }, { code1: randomName('c') }],
      })
    ).json().ids as string[];
    await ownerQuery(
      t.database,
      'UPDATE cards SET code1_enc = (SELECT code1_enc FROM cards WHERE id = $2) WHERE id = $1',
      [few[1], few[0]],
    );
    await expect(
      exportAll(small.username, 'cards', 'json', { include_codes: 'true' }),
    ).rejects.toThrow(
      /^cards: An internal error occurred\. Quote request id \S+ when reporting it\.$/,
    );
  });

  it('tells a failed export from a complete one by its end', () => {
    const json = `[\n{"id":"a"}\n{"accountdb_export_error":{"code":"export_failed","detail":"It broke.","rows":1,"request_id":"r"}}\n`;
    expect(exportFailure('json', json)).toBe('It broke.');
    expect(exportFailure('json', '[\n{"id":"a"}\n]\n')).toBeNull();
    expect(exportFailure('json', '[]\n')).toBeNull();
    const csv = '\uFEFFid,name\r\na,b\r\n"EXPORT FAILED: It broke; really.",,,\r\n';
    expect(exportFailure('csv', csv)).toBe('It broke; really.');
    expect(
      exportFailure('csv', '\uFEFFid,name\r\na,"EXPORT FAILED: not at the start"\r\n'),
    ).toBeNull();
  });

  it('the session it opens ends with it (its refresh token is revoked)', async () => {
    const s = await session(bob.username);
    const [open] = await ownerQuery<{ n: string }>(
      t.database,
      `SELECT count(*)::text AS n FROM refresh_tokens WHERE owner_id = '${bob.id}' AND revoked_at IS NULL AND user_agent = 'accountdb-cli'`,
    );
    expect(open?.n).toBe('1');
    await s.close();
    const [after] = await ownerQuery<{ n: string }>(
      t.database,
      `SELECT count(*)::text AS n FROM refresh_tokens WHERE owner_id = '${bob.id}' AND revoked_at IS NULL AND user_agent = 'accountdb-cli'`,
    );
    expect(after?.n).toBe('0');
    // Bob's own web session is untouched.
    expect(outcome(await refresh(t.app, bob.refreshToken))).toBe('200');
  });
});

describe('accountdb import', () => {
  it('accounts from CSV in batches: bad rows named by their line in the file, the rest written; dry run writes nothing', async () => {
    const tag = randomName('csv');
    const lines = ['username,password,tags'];
    for (let i = 1; i <= 7; i++) lines.push(i === 5 ? ',no-name,x' : `${tag}-${i},pw-${i},${tag}`);
    const file = `${lines.join('\r\n')}\r\n`;

    const dry = await importFile(bob.username, {
      resource: 'accounts',
      format: 'csv',
      text: file,
      batchSize: 2,
      dryRun: true,
    });
    expect(dry).toMatchObject({ created: 6, failed: 1 });
    expect(dry.errors.map((e) => e.row)).toEqual([6]);
    const none = await call(bob, 'GET', `/accounts?tag=${tag}`);
    expect((none.json() as { total: number }).total).toBe(0);

    const progress: Array<[number, number]> = [];
    const real = await importFile(bob.username, {
      resource: 'accounts',
      format: 'csv',
      text: file,
      batchSize: 2,
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(real).toMatchObject({ created: 6, failed: 1 });
    expect(real.errors).toEqual([{ row: 6, message: expect.stringMatching(/username/) }]);
    expect(progress).toEqual([
      [0, 7],
      [2, 7],
      [4, 7],
      [6, 7],
      [7, 7],
    ]);
    expect((await call(bob, 'GET', `/accounts?tag=${tag}`)).json()).toMatchObject({ total: 6 });
    // Alice sees none of it.
    expect((await call(alice, 'GET', `/accounts?tag=${tag}`)).json()).toMatchObject({ total: 0 });
  });

  it('counts every error when the API lists only the first of a batch, and cuts batches by bytes', async () => {
    // 250 rows without a username in one batch of 1,000: the API lists the first 100.
    const rows = Array.from({ length: 300 }, (_, i) =>
      i % 6 === 0 ? `ok-${randomName('a')}` : '',
    );
    const file = `username,notes\n${rows.map((u) => `${u},x`).join('\n')}\n`;
    const outcome = await importFile(bob.username, {
      resource: 'accounts',
      format: 'csv',
      text: file,
      batchSize: 1000,
      dryRun: true,
    });
    expect(outcome).toMatchObject({ created: 50, failed: 250, errorsTotal: 250 });
    expect(outcome.errors).toHaveLength(LIMITS.import.errors);
    expect(outcome.errors[0]?.row).toBe(3);

    const records = Array.from({ length: 10 }, (_, i) => ({ text: 'x'.repeat(98), row: i + 1 }));
    const sizes = [...batchesOf(records, { size: 4, maxBytes: 300 })].map((b) => b.length);
    expect(sizes).toEqual([3, 3, 3, 1]);
    expect(
      [...batchesOf(records, { size: 4, maxBytes: 10_000, skip: 3 })].map((b) => b.length),
    ).toEqual([4, 3]);
    // A record larger than a batch may be goes alone (the API then refuses it with 413).
    expect([...batchesOf(records, { size: 4, maxBytes: 50 })].map((b) => b.length)).toEqual(
      Array(10).fill(1),
    );
  });

  it('an export of one user imports into another: hardware round trip, read-only fields left out', async () => {
    const mac = `BC:24:11:${[1, 2, 3]
      .map(() =>
        Math.floor(Math.random() * 256)
          .toString(16)
          .padStart(2, '0'),
      )
      .join(':')}`;
    const made = await call(alice, 'POST', '/hardware', {
      pcname: randomName('PC'),
      mac_address: mac,
      smbios_uuid: crypto.randomUUID(),
      tags: ['round-trip'],
    });
    expect(made.statusCode).toBe(201);
    const exported = await exportAll(alice.username, 'hardware', 'json', { mac_address: mac });
    expect(exported.result.rows).toBe(1);

    const result = await importFile(bob.username, {
      resource: 'hardware',
      format: 'json',
      text: exported.body,
      batchSize: 100,
    });
    expect(result).toMatchObject({ created: 1, failed: 0, errors: [] });
    const bobs = (await call(bob, 'GET', `/hardware?mac_address=${mac}`)).json() as {
      items: Array<{ id: string; tags: string[] }>;
    };
    expect(bobs.items).toHaveLength(1);
    expect(bobs.items[0]?.id).not.toBe((made.json() as { id: string }).id);
    expect(bobs.items[0]?.tags).toEqual(['round-trip']);
    expect((await call(alice, 'GET', `/hardware?mac_address=${mac}`)).json()).toMatchObject({
      total: 1,
    });
  });

  it('a refused JSON batch stops the import: earlier batches stay, none of it is written, --skip resumes', async () => {
    const prefix = randomName('vmimp');
    const items = [1, 2, 3, 4, 5].map((i) => ({ name: `${prefix}-${i}`, tags: [prefix] }));
    (items[3] as Record<string, unknown>).status = 'exploded';
    const file = `${items.map((i) => JSON.stringify(i)).join('\n')}\n`;
    const first = await importFile(alice.username, {
      resource: 'vms',
      format: 'jsonl',
      text: file,
      batchSize: 2,
    });
    expect(first.stoppedAfter).toBe(2);
    expect(first.created).toBe(2);
    expect(first.errors).toEqual([{ row: 4, message: expect.stringMatching(/^status: /) }]);
    const count = async () =>
      ((await call(alice, 'GET', `/vms?tag=${prefix}`)).json() as { total: number }).total;
    expect(await count()).toBe(2);

    const fixed = file.replace('"status":"exploded"', '"status":"stopped"');
    const resumed = await importFile(alice.username, {
      resource: 'vms',
      format: 'jsonl',
      text: fixed,
      batchSize: 2,
      skip: first.stoppedAfter,
    });
    expect(resumed).toMatchObject({ created: 3, failed: 0 });
    expect(await count()).toBe(5);
  });

  it('cards one a line with shared fields; codes already there are skipped on a re-run', async () => {
    const tag = randomName('batch');
    const codes = [1, 2, 3].map((i) => `${tag}-CODE-${i}`.toUpperCase());
    const file = `# ${tag}\n${codes[0]}\n${codes[1]},4711\n\n${codes[2]}\n`;
    const options = {
      resource: 'cards' as const,
      format: 'text' as const,
      text: file,
      batchSize: 2,
      cardDefaults: { value: '25', currency: 'EUR', tags: [tag] },
    };
    expect(await importFile(alice.username, options)).toMatchObject({
      created: 3,
      duplicates: 0,
      failed: 0,
    });
    expect(await importFile(alice.username, options)).toMatchObject({
      created: 0,
      duplicates: 3,
    });
    const cards = (await call(alice, 'GET', `/cards?tag=${tag}`)).json() as {
      items: Array<{ value: number; currency: string }>;
    };
    expect(cards.items).toHaveLength(3);
    expect(cards.items.every((c) => Number(c.value) === 25 && c.currency === 'EUR')).toBe(true);
  });

  it('refuses what the resource cannot take, before writing', async () => {
    await expect(
      importFile(alice.username, {
        // Hardware takes CSV since POST /hardware/import (cli-import-legacy.test.ts); VMs do not.
        resource: 'vms',
        format: 'csv',
        text: 'a\n1\n',
        batchSize: 5,
      }),
    ).rejects.toThrow(/import JSON or JSON lines/);
    await expect(
      importFile(alice.username, {
        resource: 'vms',
        format: 'json',
        text: '[{"name":"x"}]',
        batchSize: 5,
        dryRun: true,
      }),
    ).rejects.toThrow(/--dry-run/);
  });
});
