// The API's own TypeScript modules (migrator, app, password hashing), loaded through tsx as
// apps/api/bin/accountdb.mjs does, so the benchmarks use exactly the code that ships.
let registered = false;

async function load(rel) {
  if (!registered) {
    const { register } = await import('tsx/esm/api');
    register();
    registered = true;
  }
  return import(new URL(`../../apps/api/src/${rel}`, import.meta.url).href);
}

export const apiModule = {
  client: () => load('db/client.ts'),
  tenantContext: () => load('db/tenant-context.ts'),
  migrate: () => load('db/migrate.ts'),
  app: () => load('app.ts'),
  config: () => load('config.ts'),
  passwords: () => load('crypto/passwords.ts'),
};
