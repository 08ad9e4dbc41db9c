import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legacyHardwareRowBody } from '../src/modules/hardware/legacy-hardware.js';
import { createUser, randomName, type TestUser } from './helpers/factories.js';
import { expectProblem, ownedRows, ownerQuery } from './helpers/support.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

/**
 * The earlier AccountDB's hardware (Xenogy/SLLAB, inits/02-hardware.sql): `hardware(id serial,
 * acc_id text NOT NULL REFERENCES accounts(acc_id), bios_vendor text, bios_version varchar(50),
 * disk_serial varchar(100), disk_model varchar(100), smbios_uuid uuid, mb_manufacturer text,
 * mb_product text, mb_version varchar(50), mb_serial varchar(100), mac_address varchar(17)
 * "format XX:XX:XX:XX:XX:XX", vmid integer, pcname varchar(100), machine_guid uuid,
 * hwprofile_guid uuid, product_id varchar(32), device_id uuid)` plus owner_id; its POST
 * /hardware/bulk took a JSON list of those objects (backend/routers/hardware.py). PostgreSQL
 * prints uuid values lower case with dashes; psql's CSV writes NULL as an empty field.
 */

let t: TestApp;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, admin, alice, bob, call } = await twoUsers());
});
afterAll(async () => t?.close());

const json = { 'content-type': 'application/json' };
const csv = { 'content-type': 'text/csv' };
const steamId = () => `7656119${String(Math.floor(Math.random() * 1e10)).padStart(10, '0')}`;

async function account(user: TestUser, externalId: string) {
  const res = await call(user, 'POST', '/accounts', {
    username: randomName('a'),
    external_id: externalId,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}
async function node(user: TestUser) {
  const res = await call(user, 'POST', '/proxmox-nodes', {
    name: randomName('pve'),
    hostname: 'pve.lan',
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}
async function vm(user: TestUser, nodeId: string, vmid: number) {
  const res = await call(user, 'POST', '/vms', { node_id: nodeId, vmid, name: `vm-${vmid}` });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

/** A row of the earlier table as its JSON upload / node-postgres gives it. */
function legacyRow(
  id: number,
  accId: string,
  vmid: number | null,
  extra: Record<string, unknown> = {},
) {
  return {
    id,
    acc_id: accId,
    bios_vendor: 'American Megatrends Inc.',
    bios_version: 'F.42',
    disk_serial: `S3Z${id}NX0K123456`,
    disk_model: 'Samsung SSD 970 EVO Plus 1TB',
    smbios_uuid: `4c4c4544-0042-3510-8052-b4c04f4e4d${String(id).padStart(2, '0')}`,
    mb_manufacturer: 'ASUSTeK COMPUTER INC.',
    mb_product: 'PRIME B450M-A',
    mb_version: 'Rev X.0x',
    mb_serial: `MB-${id}-ÆØÅ`,
    mac_address: `BC:24:11:5E:0A:${String(id).padStart(2, '0')}`,
    vmid,
    pcname: `DESKTOP-${id}Q81ZC`,
    machine_guid: '6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b',
    hwprofile_guid: null,
    product_id: '00330-80000-00000-AA123',
    device_id: 'a6b0c2d4-1e3f-4a5b-8c7d-9e0f1a2b3c4d',
    ...extra,
  };
}

describe('legacyHardwareRowBody', () => {
  it('maps id to external_id, acc_id and vmid to links, keeps the columns, drops owner_id', () => {
    const row = { ...legacyRow(12, '76561198000000001', 105), owner_id: 3 };
    const { body, links } = legacyHardwareRowBody(row);
    expect(links).toEqual({ acc_id: '76561198000000001', vmid: 105 });
    expect(body).toMatchObject({
      external_id: '12',
      pcname: 'DESKTOP-12Q81ZC',
      hwprofile_guid: null,
    });
    expect(body).not.toHaveProperty('owner_id');
    expect(legacyHardwareRowBody({ id: '3', vmid: '', acc_id: '', pcname: '' })).toEqual({
      body: { external_id: '3', pcname: null },
      links: {},
    });
    expect(() => legacyHardwareRowBody({ vmid: 'x' })).toThrow(/vmid/);
    expect(() => legacyHardwareRowBody({ acc_id: '1', colour: 'red' })).toThrow(/colour/);
    // A hostile column name is quoted shortened, not whole.
    expect(() => legacyHardwareRowBody({ id: 1, ['k'.repeat(100_000)]: 1 })).toThrow(
      `${'k'.repeat(64)}… is not a column of the earlier hardware table`,
    );
  });
});

describe('POST /hardware/import', () => {
  it('links by acc_id and vmid among your own rows, and exports the source back field for field', async () => {
    const user = await createUser(t.app, admin);
    const [s1, s2] = [steamId(), '76561198999999999'];
    const acc1 = await account(user, s1);
    await account(user, s2);
    const n1 = await node(user);
    const vm101 = await vm(user, n1, 101);
    await vm(user, n1, 102);
    const source = [
      legacyRow(1, s1, 101),
      legacyRow(2, s2, 102, {
        bios_vendor: 'Ünïcödé BIOS, "quoted"',
        hwprofile_guid: 'd1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6',
      }),
      legacyRow(3, s1, null, { mb_serial: null, disk_model: null }),
    ];
    const res = await call(user, 'POST', '/hardware/import', JSON.stringify(source), json);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ format: 'json', total: 3, created: 3, failed: 0 });
    const list = (await call(user, 'GET', '/hardware?sort=created_at')).json().items;
    expect(list[0]).toMatchObject({ external_id: '1', account_id: acc1, vm_id: vm101 });
    const back = await call(user, 'GET', '/hardware/export?format=legacy-json');
    expect(back.statusCode, back.body).toBe(200);
    expect(JSON.parse(back.body)).toEqual(source);
    // Another user's legacy export holds none of it.
    const bobs = await call(bob, 'GET', '/hardware/export?format=legacy-json');
    expect(JSON.parse(bobs.body)).toEqual([]);
    // Importing the same file again changes nothing.
    expect(
      (await call(user, 'POST', '/hardware/import', JSON.stringify(source), json)).json(),
    ).toMatchObject({ created: 0, updated: 0, unchanged: 3 });
    // A changed column updates the record it matches by id.
    const changed = [{ ...source[0], pcname: 'DESKTOP-RENAMED' }];
    expect(
      (await call(user, 'POST', '/hardware/import', JSON.stringify(changed), json)).json(),
    ).toMatchObject({ created: 0, updated: 1 });
    expect(await ownedRows(t.database, 'hardware', user.id)).toBe(3);
  });

  it('reads a psql CSV dump of the earlier table and writes it back the same', async () => {
    const user = await createUser(t.app, admin);
    const s1 = steamId();
    await account(user, s1);
    const n1 = await node(user);
    await vm(user, n1, 7001);
    const header =
      'id,acc_id,bios_vendor,bios_version,disk_serial,disk_model,smbios_uuid,mb_manufacturer,mb_product,mb_version,mb_serial,mac_address,vmid,pcname,machine_guid,hwprofile_guid,product_id,device_id,owner_id';
    const dump = [
      header,
      `41,${s1},"Dell Inc.","1.2.3, beta",WD-1,"Disk ""X""",4c4c4544-0042-3510-8052-b4c04f4e4d32,Dell,0KM5PX,A00,CN123,BC:24:11:5E:0A:01,7001,PC-ß,6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b,,00330-80000-00000-AA123,a6b0c2d4-1e3f-4a5b-8c7d-9e0f1a2b3c4d,5`,
      `42,${s1},,,,,,,,,,,,,,,,,5`,
      '',
    ].join('\n');
    const res = await call(user, 'POST', '/hardware/import', dump, csv);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ format: 'csv', created: 2, failed: 0 });
    const back = await call(user, 'GET', '/hardware/export?format=legacy-csv');
    const expected = dump
      .split('\n')
      .map((l) => l.replace(/,(owner_id|5)$/, ''))
      .join('\n')
      .replace('"Dell Inc."', 'Dell Inc.');
    expect(back.body).toBe(expected);
  });

  it('reports a missing or ambiguous link by row and field and writes nothing of that row', async () => {
    const user = await createUser(t.app, admin);
    const s1 = steamId();
    await account(user, s1);
    const [n1, n2] = [await node(user), await node(user)];
    await vm(user, n1, 300);
    await vm(user, n2, 300);
    await vm(user, n1, 301);
    const rows = [
      legacyRow(1, s1, 301),
      legacyRow(2, '76561190000000000', 301),
      legacyRow(3, s1, 300),
      legacyRow(4, s1, 999),
      legacyRow(5, s1, null, { mac_address: 'ZZ:24:11:5E:0A:01' }),
      legacyRow(6, s1, null, { vmid: 'abc' }),
    ];
    const res = (await call(user, 'POST', '/hardware/import', JSON.stringify(rows), json)).json();
    expect(res).toMatchObject({ created: 1, failed: 5 });
    expect(res.errors).toEqual([
      {
        row: 2,
        message: 'acc_id 76561190000000000: none of your accounts has this external_id (SteamID64)',
      },
      {
        row: 3,
        message: 'vmid 300: 2 of your VMs (on different nodes) have this VMID; link it by vm_id',
      },
      { row: 4, message: 'vmid 999: none of your VMs has this VMID' },
      { row: 5, message: 'mac_address is not a MAC address (like AA:BB:CC:DD:EE:FF)' },
      { row: 6, message: 'vmid is not a whole number' },
    ]);
    expect(await ownedRows(t.database, 'hardware', user.id)).toBe(1);
  });

  it("never links another user's account or VM, even with the same SteamID and VMID", async () => {
    const shared = steamId();
    await account(bob, shared);
    await vm(bob, await node(bob), 555);
    const rows = [legacyRow(1, shared, null), legacyRow(2, steamId(), 555, { acc_id: null })];
    const res = (await call(alice, 'POST', '/hardware/import', JSON.stringify(rows), json)).json();
    expect(res).toMatchObject({ created: 0, failed: 2 });
    expect(res.errors.map((e: { message: string }) => e.message)).toEqual([
      expect.stringMatching(/^acc_id \d+: none of your accounts/),
      'vmid 555: none of your VMs has this VMID',
    ]);
    // An admin importing for alice resolves among alice's rows, not their own or bob's.
    const forAlice = await call(
      admin,
      'POST',
      `/hardware/import?owner_id=${alice.id}`,
      JSON.stringify(rows),
      json,
    );
    expect(forAlice.json()).toMatchObject({ created: 0, failed: 2 });
    // AccountDB's own fields: bob's account id is refused as a link for alice.
    const bobsAccount = (await call(bob, 'GET', '/accounts')).json().items[0].id;
    const own = await call(
      alice,
      'POST',
      '/hardware/import',
      JSON.stringify([{ pcname: 'X', account_id: bobsAccount }]),
      json,
    );
    expect(own.json()).toMatchObject({ created: 0, failed: 1 });
    expect(await ownedRows(t.database, 'hardware', alice.id)).toBe(0);
  });

  it("takes AccountDB's own fields as JSON lines and CSV; re-import matches by external_id or smbios_uuid", async () => {
    const user = await createUser(t.app, admin);
    const lines = [
      JSON.stringify({
        pcname: 'A',
        smbios_uuid: '{4C4C4544-0042-3510-8052-B4C04F4E4D99}',
        tags: ['eu'],
      }),
      JSON.stringify({ pcname: 'B', external_id: 'rack-7' }),
      '{not json',
    ].join('\n');
    const res = await call(user, 'POST', '/hardware/import', lines, {
      'content-type': 'application/x-ndjson',
    });
    expect(res.json()).toMatchObject({
      format: 'jsonl',
      created: 2,
      failed: 1,
      errors: [{ row: 3, message: 'is not valid JSON' }],
    });
    const table =
      'pcname,smbios_uuid,external_id,tags\nA2,4c4c4544-0042-3510-8052-b4c04f4e4d99,,eu;x\nB,,rack-7,\n';
    expect((await call(user, 'POST', '/hardware/import', table, csv)).json()).toMatchObject({
      format: 'csv',
      created: 0,
      updated: 1,
      unchanged: 1,
    });
    const list = (await call(user, 'GET', '/hardware?sort=created_at')).json().items;
    expect(list.map((h: { pcname: string; tags: string[] }) => [h.pcname, h.tags])).toEqual([
      ['A2', ['eu', 'x']],
      ['B', []],
    ]);
  });

  it('refuses malformed and hostile uploads whole, audits real ones', async () => {
    const user = await createUser(t.app, admin);
    for (const bad of ['[{"pcname": "A"}, {"pcname": ', '[{"pcname": "A"},]']) {
      expectProblem(await call(user, 'POST', '/hardware/import', bad, json), 400, 'invalid_json');
    }
    const many = `[${Array.from({ length: 20_001 }, () => '{}').join(',')}]`;
    expectProblem(
      await call(user, 'POST', '/hardware/import', many, json),
      400,
      'too_many_records',
    );
    const deep = `[${'{"a":'.repeat(100)}1${'}'.repeat(100)}]`;
    expectProblem(await call(user, 'POST', '/hardware/import', deep, json), 400, 'json_too_deep');
    // 17 MiB, over the 16 MiB an import takes: refused before anything is read.
    const huge = JSON.stringify([{ pcname: 'x'.repeat(17 * 1024 * 1024) }]);
    expectProblem(
      await call(user, 'POST', '/hardware/import', huge, json),
      413,
      'payload_too_large',
    );
    const long = JSON.stringify([{ pcname: 'x'.repeat(201) }]);
    const res = (await call(user, 'POST', '/hardware/import', long, json)).json();
    expect(res.errors[0]).toEqual({
      row: 1,
      message: 'pcname must NOT have more than 200 characters',
    });
    expect(await ownedRows(t.database, 'hardware', user.id)).toBe(0);
    const dry = await call(user, 'POST', '/hardware/import?dry_run=true', '[{"pcname":"D"}]', json);
    expect(dry.json()).toMatchObject({ dry_run: true, created: 1 });
    expect(await ownedRows(t.database, 'hardware', user.id)).toBe(0);
    await call(user, 'POST', '/hardware/import', '[{"pcname":"D"}]', json);
    const audit = await ownerQuery<{ details: Record<string, unknown> }>(
      t.database,
      `SELECT details FROM audit_log WHERE owner_id = '${user.id}' AND action = 'hardware.import' ORDER BY at, id`,
    );
    // The refused pcname import was real too (it wrote nothing); the dry run left no entry.
    expect(audit.map((a) => a.details.created)).toEqual([0, 1]);
  });
});
