'use client';

import { useQuery } from '@tanstack/react-query';
import type { components, paths } from '../../api/schema';
import { api, unwrap } from '../../lib/api';

export type Grant = components['schemas']['Grant'];
export type GrantObjectType = Grant['object_type'];
export type NewGrant =
  paths['/api/v1/grants']['post']['requestBody']['content']['application/json'];
export type GrantPatch =
  paths['/api/v1/grants/{id}']['patch']['requestBody']['content']['application/json'];

export const grantKeys = {
  all: ['grants'] as const,
  object: (id: string) => ['grants', 'object', id] as const,
  received: ['grants', 'received'] as const,
};

/** The shares of one of your objects (GET /grants?direction=given&object_id=…). */
export async function fetchObjectGrants(objectId: string): Promise<Grant[]> {
  return unwrap(
    await api.GET('/api/v1/grants', {
      params: { query: { direction: 'given', object_id: objectId, limit: 500 } },
    }),
  ).items;
}

export async function fetchReceivedGrants(): Promise<Grant[]> {
  return unwrap(
    await api.GET('/api/v1/grants', {
      params: { query: { direction: 'received', limit: 500 } },
    }),
  ).items;
}

export async function createGrant(body: NewGrant): Promise<Grant> {
  return unwrap(await api.POST('/api/v1/grants', { body }));
}

export async function patchGrant(id: string, body: GrantPatch): Promise<Grant> {
  return unwrap(await api.PATCH('/api/v1/grants/{id}', { params: { path: { id } }, body }));
}

export async function deleteGrant(id: string): Promise<void> {
  const result = await api.DELETE('/api/v1/grants/{id}', { params: { path: { id } } });
  if (result.error !== undefined || !result.response.ok) unwrap(result);
}

export function useReceivedGrants() {
  return useQuery({ queryKey: grantKeys.received, queryFn: fetchReceivedGrants });
}

/** What the share dialog does, so that a test can give it fakes. */
export interface SharingApi {
  list: (objectId: string) => Promise<Grant[]>;
  create: (body: NewGrant) => Promise<Grant>;
  update: (id: string, body: GrantPatch) => Promise<Grant>;
  remove: (id: string) => Promise<void>;
}

export const sharingApi: SharingApi = {
  list: fetchObjectGrants,
  create: createGrant,
  update: patchGrant,
  remove: deleteGrant,
};
