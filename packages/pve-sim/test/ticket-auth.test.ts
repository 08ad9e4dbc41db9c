/**
 * Ticket login beside API tokens, as pve-manager's PVE/HTTPServer.pm and pve-access-control
 * do it: `POST /access/ticket` needs no authentication and answers `{username, ticket,
 * CSRFPreventionToken}`; the ticket goes in the `PVEAuthCookie` cookie; anything but GET also
 * needs the `CSRFPreventionToken` header (API tokens never do); a bad or expired ticket is 401
 * "Authentication failed!"; tickets live 2 h.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PveSim } from '../src/index.js';
import { api, control, type Json, startSim } from './helpers/sim.js';

let sim: PveSim;

beforeAll(async () => {
  sim = await startSim({ vms: 20, authDelayMs: 60, username: 'audit@pve', password: 'hunter2=&;' });
});
afterAll(() => sim?.stop());

async function login(body: Record<string, string>, contentType = 'form') {
  const started = performance.now();
  const res = await fetch(`${sim.apiUrl}/access/ticket`, {
    method: 'POST',
    headers: {
      'content-type':
        contentType === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
    },
    body: contentType === 'json' ? JSON.stringify(body) : new URLSearchParams(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    reason: res.statusText,
    text,
    body: text ? (JSON.parse(text) as Json) : undefined,
    ms: performance.now() - started,
  };
}

async function withTicket(
  path: string,
  ticket: string,
  init: { method?: string; csrf?: string } = {},
) {
  const headers: Record<string, string> = { cookie: `PVEAuthCookie=${encodeURIComponent(ticket)}` };
  if (init.csrf !== undefined) headers.csrfpreventiontoken = init.csrf;
  const res = await fetch(`${sim.apiUrl}${path}`, { method: init.method ?? 'GET', headers });
  return { status: res.status, reason: res.statusText, text: await res.text() };
}

describe('POST /access/ticket', () => {
  it('answers username, ticket and CSRFPreventionToken for a form login', async () => {
    const res = await login({ username: 'audit@pve', password: 'hunter2=&;' });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({
      username: 'audit@pve',
      ticket: expect.stringMatching(/^PVE:audit@pve:[0-9A-F]{8}::[A-Za-z0-9+/=]+$/),
      CSRFPreventionToken: expect.stringMatching(/^[0-9A-F]{8}:[A-Za-z0-9+/=]+$/),
    });
    expect(res.text).not.toContain('hunter2');
  });

  it('takes a JSON body and the realm as its own parameter', async () => {
    const json = await login({ username: 'audit@pve', password: 'hunter2=&;' }, 'json');
    expect(json.status).toBe(200);
    const realm = await login({ username: 'audit', realm: 'pve', password: 'hunter2=&;' });
    expect(realm.body.data.username).toBe('audit@pve');
  });

  it('answers a delayed 401 "authentication failure" to wrong credentials', async () => {
    for (const body of [
      { username: 'audit@pve', password: 'wrong' },
      { username: 'root@pam', password: 'hunter2=&;' },
      { username: 'audit@pve', password: '' },
    ]) {
      const res = await login(body);
      expect(res.status, JSON.stringify(body)).toBe(401);
      expect(res.reason).toBe('authentication failure');
      expect(res.ms).toBeGreaterThanOrEqual(55);
    }
  });

  it('answers 400 naming missing and unknown parameters', async () => {
    const res = await login({ username: 'audit@pve', pasword: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual({
      password: 'property is missing and it is not optional',
      pasword:
        'property is not defined in schema and the schema does not allow additional properties',
    });
  });

  it('refuses a body above 64 KiB with 413', async () => {
    const res = await login({ username: 'audit@pve', password: 'x'.repeat(70_000) });
    expect(res.status).toBe(413);
  });

  it('answers injected faults like any other endpoint', async () => {
    await control(sim, 'POST', '/faults', { status: 595, only: ['access-ticket'] });
    try {
      const res = await login({ username: 'audit@pve', password: 'hunter2=&;' });
      expect(res.status).toBe(595);
      expect((await api(sim, '/version')).status).toBe(200);
    } finally {
      await control(sim, 'DELETE', '/faults');
    }
  });

  it('renews a valid ticket given as the password', async () => {
    const first = (await login({ username: 'audit@pve', password: 'hunter2=&;' })).body.data;
    const renewed = await login({ username: 'audit@pve', password: first.ticket });
    expect(renewed.status).toBe(200);
    expect(renewed.body.data.ticket).toMatch(/^PVE:audit@pve:/);
  });
});

describe('PVEAuthCookie and CSRFPreventionToken', () => {
  let ticket: string;
  let csrf: string;

  beforeAll(async () => {
    ({ ticket, CSRFPreventionToken: csrf } = (
      await login({ username: 'audit@pve', password: 'hunter2=&;' })
    ).body.data);
  });

  it('reads with the ticket cookie, no CSRF token needed for GET', async () => {
    const res = await withTicket('/cluster/resources?type=vm', ticket);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).data.length).toBe(20);
  });

  it('answers 401 to a forged, foreign or missing ticket', async () => {
    const forged = ticket.replace('audit@pve', 'root@pam');
    expect((await withTicket('/version', forged)).reason).toBe('Authentication failed!');
    const other = await startSim({ vms: 1, username: 'audit@pve', password: 'hunter2=&;' });
    try {
      const res = await fetch(`${other.apiUrl}/access/ticket`, {
        method: 'POST',
        body: new URLSearchParams({ username: 'audit@pve', password: 'hunter2=&;' }),
      });
      const foreign = ((await res.json()) as Json).data.ticket as string;
      expect((await withTicket('/version', foreign)).status).toBe(401);
    } finally {
      await other.stop();
    }
    const none = await api(sim, '/version', { authorization: null });
    expect(none.reason).toBe('No ticket');
  });

  it('needs the CSRF token on writes; API tokens do not', async () => {
    const without = await withTicket('/nodes/pve1/qemu', ticket, { method: 'POST' });
    expect(without.status).toBe(401);
    expect(without.reason).toBe('Permission denied - invalid csrf token');
    const wrong = await withTicket('/nodes/pve1/qemu', ticket, {
      method: 'POST',
      csrf: `${csrf.slice(0, 9)}AAAA`,
    });
    expect(wrong.status).toBe(401);
    // Past authentication, the simulator has no write endpoints: 501 like any unknown method.
    const withCsrf = await withTicket('/nodes/pve1/qemu', ticket, { method: 'POST', csrf });
    expect(withCsrf.status).toBe(501);
    const token = await api(sim, '/nodes/pve1/qemu', { method: 'POST' });
    expect(token.status).toBe(501);
  });

  it('expires tickets and CSRF tokens after ticket_lifetime_ms (2 h by default)', async () => {
    expect((await control(sim, 'GET', '/timing')).body.ticket_lifetime_ms).toBe(7_200_000);
    expect((await withTicket('/version', ticket)).status).toBe(200);
    await control(sim, 'POST', '/timing', { ticket_lifetime_ms: 0 });
    try {
      const expired = await withTicket('/version', ticket);
      expect(expired.status).toBe(401);
      expect(expired.reason).toBe('Authentication failed!');
      const renew = await login({ username: 'audit@pve', password: ticket });
      expect(renew.status).toBe(401);
    } finally {
      await control(sim, 'POST', '/timing', { ticket_lifetime_ms: 7_200_000 });
    }
    expect((await withTicket('/version', ticket)).status).toBe(200);
  });

  it('rejects a user that is not USER@REALM at start', async () => {
    await expect(startSim({ vms: 1, username: 'root' })).rejects.toThrow(/USER@REALM/);
  });
});
