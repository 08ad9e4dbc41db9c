'use client';

import { useQuery } from '@tanstack/react-query';
import type { components, paths } from '../../api/schema';
import type { ApiListQuery } from '../../components/list/types';
import { api, unwrap } from '../../lib/api';

export type User = components['schemas']['User'];
export type UserPatch =
  paths['/api/v1/users/{id}']['patch']['requestBody']['content']['application/json'];
type UserListQuery = NonNullable<paths['/api/v1/users']['get']['parameters']['query']>;

export const userKeys = {
  all: ['users'] as const,
  one: (id: string) => ['users', 'one', id] as const,
};

export async function fetchUsersPage(options: {
  query: ApiListQuery;
  cursor?: string;
  limit: number;
}) {
  const { q, role, is_active } = options.query;
  const query: UserListQuery = {
    limit: options.limit,
    ...(options.cursor ? { cursor: options.cursor } : {}),
    ...(typeof q === 'string' && q ? { q } : {}),
    ...(role === 'admin' || role === 'user' ? { role } : {}),
    ...(is_active === 'true' || is_active === 'false' ? { is_active: is_active === 'true' } : {}),
  };
  return unwrap(await api.GET('/api/v1/users', { params: { query } }));
}

export function useUser(id: string) {
  return useQuery({
    queryKey: userKeys.one(id),
    queryFn: async () => unwrap(await api.GET('/api/v1/users/{id}', { params: { path: { id } } })),
  });
}

export async function patchUser(id: string, body: UserPatch) {
  return unwrap(await api.PATCH('/api/v1/users/{id}', { params: { path: { id } }, body }));
}
