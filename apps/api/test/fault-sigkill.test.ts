import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { type ApiUser, call, newKeys, setupUsers, startApi } from './helpers/api-process.js';
import { randomName } from './helpers/factories.js';
import { hasExited, killServers, type Server, sleep } from './helpers/server-process.js';
import { ownerQuery } from './helpers/support.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

/**
 * Fault tests: the API process is killed with SIGKILL (no shutdown hook runs) while a bulk
 * import or an agent sync is half-way through its transaction. The database must hold either
 * nothing of it or all of it, never part, and the same request retried on a new process must
 * succeed and converge. Needs real PostgreSQL (a second process on the same database).
 */

const IMPORT_ROWS = 5000;
const SYNC_GUESTS = 5000;

describe.skipIf(!inject('pgTemplate'))('SIGKILL of the API process mid-write', () => {
  let database: TestDatabase;
  let url: string;
  const keys = newKeys();
  let server: Server;
  let user: ApiUser;

  const query = <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
    ownerQuery<T>(database, text, params);

  /** Backends (other than ours) whose open transaction has written to `table`. */
  const writers = async (table: string) =>
    (
      await query<{ pid: number }>(
        `SELECT l.pid FROM pg_locks l
          WHERE l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND l.relation = $1::regclass AND l.mode = 'RowExclusiveLock'
            AND l.pid <> pg_backend_pid()`,
        [table],
      )
    ).map((r) => r.pid);

  async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check()) return;
      await sleep(10);
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  /** Bytes in the main fork of `table`: uncommitted rows grow it too, so it shows progress. */
  const tableBytes = async (table: string) =>
    Number(
      (await query<{ n: string }>('SELECT pg_relation_size($1::regclass) AS n', [table]))[0]?.n,
    );

  /**
   * Sends the request and SIGKILLs the process half-way through its transaction: once a
   * backend holds a write lock on `table` and the table has grown by `growBytes` (rows
   * written but not committed). Then waits until PostgreSQL has ended that transaction.
   * Fails if the request finished before the kill: then nothing was tested.
   */
  async function killDuring(
    table: string,
    growBytes: number,
    request: () => Promise<unknown>,
  ): Promise<{ grownBy: number }> {
    const startBytes = await tableBytes(table);
    const outcome = request().then(
      (answer) => ({ answered: answer }),
      (error: unknown) => ({ failed: error }),
    );
    let answeredEarly = false;
    void outcome.then((o) => {
      answeredEarly = 'answered' in o;
    });
    let grownBy = 0;
    await waitFor(`a transaction that wrote ${growBytes} bytes to ${table}`, async () => {
      if (answeredEarly) throw new Error('the request finished before the kill: make it larger');
      grownBy = (await tableBytes(table)) - startBytes;
      return grownBy >= growBytes && (await writers(table)).length > 0;
    });
    server.child.kill('SIGKILL');
    expect((await server.exited).signal).toBe('SIGKILL');
    expect('failed' in (await outcome), 'the killed request must not have been answered').toBe(
      true,
    );
    // PostgreSQL notices the dead client and rolls back; after that nothing can commit it.
    await waitFor(`the killed transaction on ${table} to end`, async () => {
      return (await writers(table)).length === 0;
    });
    return { grownBy };
  }

  beforeAll(async () => {
    database = await createTestDatabase({ poolMax: 2 });
    if (!database.url) throw new Error('createTestDatabase gave no URL on PostgreSQL');
    url = database.url;
    server = await startApi(url, keys);
    [user] = (await setupUsers(server, 1)).users as [ApiUser];
  });
  // A test that failed half-way may have left the process killed: the next one starts another.
  beforeEach(async () => {
    if (hasExited(server)) server = await startApi(url, keys);
  });
  afterAll(async () => {
    killServers();
    await database?.drop();
  });

  it('mid-import leaves no row of the import, and the retried import creates every row', async () => {
    const batch = randomName('imp');
    const records = Array.from({ length: IMPORT_ROWS }, (_, i) => ({
      external_id: `${batch}-${i}`,
      username: `${batch}_${i}`,
      password: `secret ${i} of ${batch}`,
      tags: ['fault'],
    }));
    const body = JSON.stringify(records);
    const importOnce = () =>
      fetch(`${server.url}/api/v1/accounts/import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
        body,
      });
    const imported = async () =>
      Number(
        (
          await query<{ n: string }>(
            'SELECT count(*) AS n FROM accounts WHERE owner_id = $1 AND external_id LIKE $2',
            [user.id, `${batch}-%`],
          )
        )[0]?.n,
      );

    // A small import of other accounts first: how many bytes a row adds to the table.
    const sample = records.slice(0, 200).map((r) => ({ ...r, external_id: `s${r.external_id}` }));
    const sampleStart = await tableBytes('accounts');
    const small = await call(server, user.token, 'POST', '/accounts/import', sample);
    expect(small.status, small.text).toBe(200);
    const wholeImport = (((await tableBytes('accounts')) - sampleStart) / 200) * IMPORT_ROWS;
    expect(wholeImport).toBeGreaterThan(0);

    const importAudits = async () =>
      (
        await query("SELECT 1 FROM audit_log WHERE owner_id = $1 AND action = 'account.import'", [
          user.id,
        ])
      ).length;
    const auditsBefore = await importAudits();
    // Killed with about half of the rows written.
    await killDuring('accounts', wholeImport / 2, importOnce);
    expect(await imported()).toBe(0);
    expect(await importAudits(), 'the killed import was audited').toBe(auditsBefore);

    server = await startApi(url, keys);
    const retry = await importOnce();
    const text = await retry.text();
    expect(retry.status, text).toBe(200);
    expect(JSON.parse(text)).toMatchObject({ created: IMPORT_ROWS, updated: 0, failed: 0 });
    expect(await imported()).toBe(IMPORT_ROWS);
  }, 60_000);

  it("mid-sync leaves the node's VMs as they were, and the retried sync applies all of it", async () => {
    const made = await call(server, user.token, 'POST', '/proxmox-nodes', {
      name: randomName('pve'),
    });
    expect(made.status, made.text).toBe(201);
    const node = made.json() as { id: string; api_key: string };
    const guests = (status: string, suffix: string) =>
      Array.from({ length: SYNC_GUESTS }, (_, i) => ({
        vmid: 100 + i,
        type: 'qemu',
        name: `vm-${100 + i}${suffix}`,
        status,
        cpu_cores: 2,
        memory_mb: 2048,
        tags: ['farm'],
      }));
    const cycle = (n: number, status: string, suffix: string) => ({
      cycle_id: randomName(`cycle${n}`),
      observed_at: new Date(Date.parse('2026-11-24T10:00:00Z') + n * 60_000).toISOString(),
      agent_version: '0.1.0',
      pve_version: '8.4.1',
      complete: true,
      vms: guests(status, suffix),
    });
    const sync = (body: unknown) =>
      call(server, node.api_key, 'POST', '/agent/sync', body, { timeoutMs: 25_000 });
    const state = async () =>
      query<{ status: string; names: string; n: string }>(
        `SELECT status, CASE WHEN bool_and(name LIKE '%-b') THEN 'new' WHEN bool_or(name LIKE '%-b') THEN 'mixed' ELSE 'old' END AS names, count(*) AS n
           FROM vms WHERE node_id = $1 GROUP BY status ORDER BY status`,
        [node.id],
      );

    const firstBody = cycle(1, 'running', '');
    const first = await sync(firstBody);
    expect(first.status, first.text).toBe(200);
    expect(first.json()).toMatchObject({ created: SYNC_GUESTS, absent: 0 });
    const before = await state();
    // Rewriting every VM adds about as many bytes as the VMs take now.
    const allVms = await tableBytes('vms');
    expect(before).toEqual([{ status: 'running', names: 'old', n: String(SYNC_GUESTS) }]);

    // Every guest changes status and name: one UPDATE per VM, a long transaction.
    const second = cycle(2, 'stopped', '-b');
    await killDuring('vms', allVms / 2, () => sync(second));
    expect(await state(), 'the killed sync left part of itself').toEqual(before);
    const [nodeRow] = await query<{ observed: Date; cycles: string; stopped: string }>(
      `SELECT n.last_observed_at AS observed,
              (SELECT count(*) FROM agent_sync_cycles c WHERE c.node_id = n.id AND c.cycle_id = $2) AS cycles,
              (SELECT count(*) FROM vm_status_events e JOIN vms v ON v.id = e.vm_id
                WHERE v.node_id = n.id AND e.to_status = 'stopped') AS stopped
         FROM proxmox_nodes n WHERE n.id = $1`,
      [node.id, second.cycle_id],
    );
    expect(nodeRow?.observed.toISOString()).toBe(firstBody.observed_at);
    expect(nodeRow?.cycles).toBe('0');
    expect(nodeRow?.stopped).toBe('0');

    server = await startApi(url, keys);
    const retried = await sync(second);
    expect(retried.status, retried.text).toBe(200);
    expect(retried.json()).toMatchObject({ created: 0, updated: SYNC_GUESTS, absent: 0 });
    expect(await state()).toEqual([{ status: 'stopped', names: 'new', n: String(SYNC_GUESTS) }]);
    // Retried once more (the agent never saw an answer): the same answer, nothing changes.
    const again = await sync(second);
    expect(again.status, again.text).toBe(200);
    expect(again.json()).toEqual(retried.json());
    expect(await state()).toEqual([{ status: 'stopped', names: 'new', n: String(SYNC_GUESTS) }]);
  }, 60_000);
});
