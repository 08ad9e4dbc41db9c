'use client';

import { useQuery } from '@tanstack/react-query';
import type { components, paths } from '../../api/schema';
import type { ApiListQuery } from '../../components/list/types';
import { api, unwrap } from '../../lib/api';
import { pageQuery } from '../../lib/list-query';

export type Account = components['schemas']['Account'];
export type AccountSecrets =
  paths['/api/v1/accounts/{id}/secrets']['get']['responses'][200]['content']['application/json'];
export type NewAccount =
  paths['/api/v1/accounts']['post']['requestBody']['content']['application/json'];
export type AccountPatch =
  paths['/api/v1/accounts/{id}']['patch']['requestBody']['content']['application/json'];
export type AccountListQuery = NonNullable<paths['/api/v1/accounts']['get']['parameters']['query']>;
export type AccountImportResult =
  paths['/api/v1/accounts/import']['post']['responses'][200]['content']['application/json'];

export const ACCOUNT_STATUSES = ['active', 'locked', 'disabled', 'banned'] as const;

export const accountKeys = {
  all: ['accounts'] as const,
  one: (id: string) => ['accounts', 'one', id] as const,
  events: (id: string) => ['accounts', 'events', id] as const,
};

export async function fetchAccountsPage(options: {
  query: ApiListQuery;
  cursor?: string;
  limit: number;
}) {
  const query = pageQuery<AccountListQuery>(options);
  return unwrap(await api.GET('/api/v1/accounts', { params: { query } }));
}

/** One account with its ETag (for If-Match on the next change). */
export function useAccount(id: string) {
  return useQuery({
    queryKey: accountKeys.one(id),
    queryFn: async () => {
      const result = await api.GET('/api/v1/accounts/{id}', { params: { path: { id } } });
      return { account: unwrap(result), etag: result.response.headers.get('etag') };
    },
  });
}

export function useAccountEvents(id: string) {
  return useQuery({
    queryKey: accountKeys.events(id),
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/accounts/{id}/events', {
          params: { path: { id }, query: { limit: 100 } },
        }),
      ).items,
  });
}

/**
 * The account's secrets (audited). `reason`: why an admin reveals another user's account,
 * required then and written to the owner's audit log.
 */
export async function revealSecrets(id: string, reason?: string): Promise<AccountSecrets> {
  return unwrap(
    await api.GET('/api/v1/accounts/{id}/secrets', {
      params: { path: { id }, query: reason ? { reason } : {} },
    }),
  );
}

/** The account's current 2FA code (audited); `reason` as for revealSecrets. */
export async function fetchTotp(id: string, reason?: string) {
  return unwrap(
    await api.GET('/api/v1/accounts/{id}/totp', {
      params: { path: { id }, query: reason ? { reason } : {} },
    }),
  );
}

export async function patchAccount(id: string, body: AccountPatch, etag?: string | null) {
  return unwrap(
    await api.PATCH('/api/v1/accounts/{id}', {
      params: { path: { id } },
      body,
      ...(etag ? { headers: { 'if-match': etag } } : {}),
    }),
  );
}

export async function deleteAccounts(ids: string[]) {
  return unwrap(await api.POST('/api/v1/accounts/bulk-delete', { body: { ids } }));
}
