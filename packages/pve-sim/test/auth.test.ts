import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PveSim } from '../src/index.js';
import { api, control, startSim } from './helpers/sim.js';

let sim: PveSim;

beforeAll(async () => {
  sim = await startSim({
    vms: 20,
    authDelayMs: 60,
    tokenId: 'inv@pve!sync',
    tokenSecret: '0b5e9d2c-6a39-4a3b-9f5e-3f4b1e2d7c11',
  });
});
afterAll(() => sim?.stop());

describe('API token auth', () => {
  it('accepts Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET', async () => {
    expect(sim.authorization).toBe('PVEAPIToken=inv@pve!sync=0b5e9d2c-6a39-4a3b-9f5e-3f4b1e2d7c11');
    const res = await api(sim, '/version');
    expect(res.status).toBe(200);
  });

  it('answers 401 "No ticket" with an empty body, after the delay, without a header', async () => {
    const res = await api(sim, '/version', { authorization: null });
    expect(res.status).toBe(401);
    expect(res.reason).toBe('No ticket');
    expect(res.text).toBe('');
    expect(res.ms).toBeGreaterThanOrEqual(55);
  });

  it('answers 401 "Authentication failed!" for a wrong secret or token id', async () => {
    for (const authorization of [
      'PVEAPIToken=inv@pve!sync=00000000-0000-0000-0000-000000000000',
      `PVEAPIToken=root@pam!sync=${sim.tokenSecret}`,
      'PVEAPIToken=garbage',
    ]) {
      const res = await api(sim, '/cluster/resources', { authorization });
      expect(res.status, authorization).toBe(401);
      expect(res.reason).toBe('Authentication failed!');
      expect(res.text).toBe('');
      expect(res.ms).toBeGreaterThanOrEqual(55);
    }
  });

  it('treats other schemes (tickets, Bearer) as no ticket', async () => {
    const res = await api(sim, '/version', { authorization: 'Bearer abc' });
    expect(res.status).toBe(401);
    expect(res.reason).toBe('No ticket');
  });

  it('answers 403 "Permission check failed" under the 403 fault, 401 under the 401 fault', async () => {
    await control(sim, 'POST', '/faults', { status: 403 });
    const forbidden = await api(sim, '/cluster/resources?type=vm');
    expect(forbidden.status).toBe(403);
    expect(forbidden.reason).toBe('Permission check failed (/, Sys.Audit)');
    expect(forbidden.body).toEqual({
      data: null,
      message: 'Permission check failed (/, Sys.Audit)\n',
    });
    await control(sim, 'POST', '/faults', { status: 401 });
    const revoked = await api(sim, '/version');
    expect(revoked.status).toBe(401);
    expect(revoked.reason).toBe('Authentication failed!');
    expect(revoked.text).toBe('');
    await control(sim, 'DELETE', '/faults');
    expect((await api(sim, '/version')).status).toBe(200);
  });

  it('rejects a token id that is not USER@REALM!TOKENID at start', async () => {
    await expect(startSim({ vms: 1, tokenId: 'sync' })).rejects.toThrow(/USER@REALM!TOKENID/);
  });
});
