import type { DestinationStream } from 'pino';
import type { EventLimits } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import type { SteamClock } from '../../src/modules/steam-time/steam-clock.js';
import { createUser, setupAdmin, type TestUser } from './factories.js';
import { apiAs } from './support.js';
import { createTestApp, type TestApp } from './test-app.js';

export type ApiCall = ReturnType<typeof apiAs>;

/** The usual cast of a tenancy test: an app, its admin, and two users who must stay apart. */
export interface TwoUsers {
  t: TestApp;
  admin: TestUser;
  alice: TestUser;
  bob: TestUser;
  call: ApiCall;
}

export async function twoUsers(
  options: {
    config?: Partial<Config>;
    logStream?: DestinationStream;
    steamClock?: SteamClock;
    events?: Partial<EventLimits>;
  } = {},
): Promise<TwoUsers> {
  const t = await createTestApp(options);
  const admin = await setupAdmin(t.app);
  const alice = await createUser(t.app, admin);
  const bob = await createUser(t.app, admin);
  return { t, admin, alice, bob, call: apiAs(t.app) };
}
