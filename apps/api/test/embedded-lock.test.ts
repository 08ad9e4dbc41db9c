import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client.js';

describe('embedded database lock', () => {
  it('refuses a second opener of the same directory until the first closes', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'adb-lock-')), 'pglite');
    const first = await openDatabase({ pgliteDir: dir });
    await expect(openDatabase({ pgliteDir: dir })).rejects.toThrow(/in use by process/);
    await first.close();
    const second = await openDatabase({ pgliteDir: dir });
    await second.close();
  });

  it('takes over a lock left by a process that is gone', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'adb-lock-')), 'pglite');
    writeFileSync(`${dir}.lock`, '999999999');
    const db = await openDatabase({ pgliteDir: dir });
    await db.close();
  });
});
