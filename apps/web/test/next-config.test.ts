import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/** Next's own decision, with our configuration, whether `next dev` logs a request's URL. */
const require = createRequire(import.meta.url);
const { ignoreLoggingIncomingRequests } = require('next/dist/server/dev/log-requests.js') as {
  ignoreLoggingIncomingRequests: (request: { url: string }, logging: unknown) => boolean;
};
const configFile: string = '../next.config.mjs';
const { default: nextConfig } = (await import(configFile)) as { default: { logging?: unknown } };
const logged = (url: string) => !ignoreLoggingIncomingRequests({ url }, nextConfig.logging);

describe('the web server log', () => {
  it('prints no URL with a query string', () => {
    expect(logged('/api/v1/cards?code=AAAA-BBBB')).toBe(false);
    expect(logged('/cards?q=AAAA-BBBB-CCCC')).toBe(false);
    expect(logged('/cards')).toBe(true);
    expect(logged('/accounts/0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f')).toBe(true);
  });
});
