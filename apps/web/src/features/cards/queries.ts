'use client';

import { useQuery } from '@tanstack/react-query';
import type { components, paths } from '../../api/schema';
import type { ApiListQuery } from '../../components/list/types';
import { api, unwrap } from '../../lib/api';
import { pageQuery } from '../../lib/list-query';

export type CardRecord = components['schemas']['Card'];
export type NewCard = paths['/api/v1/cards']['post']['requestBody']['content']['application/json'];
export type CardPatch =
  paths['/api/v1/cards/{id}']['patch']['requestBody']['content']['application/json'];
export type CardListQuery = NonNullable<paths['/api/v1/cards']['get']['parameters']['query']>;
export type CardImportResult =
  paths['/api/v1/cards/import']['post']['responses'][200]['content']['application/json'];

export const CARD_STATUSES = ['available', 'claimed', 'redeemed', 'failed', 'disabled'] as const;

export const cardKeys = {
  all: ['cards'] as const,
  one: (id: string) => ['cards', 'one', id] as const,
};

export async function fetchCardsPage(options: {
  query: ApiListQuery;
  cursor?: string;
  limit: number;
}) {
  const query = pageQuery<CardListQuery>(options);
  return unwrap(await api.GET('/api/v1/cards', { params: { query } }));
}

/**
 * One card with its codes: the API audits every such read, so the answer is not kept in the
 * cache after the page closes. Another user's card (an admin's) comes masked, with its owner,
 * until `reason` is given: then with its codes, the reason in the owner's audit log.
 */
export function useCard(id: string, reason?: string) {
  return useQuery({
    queryKey: [...cardKeys.one(id), reason ?? null],
    queryFn: async () => {
      const result = await api.GET('/api/v1/cards/{id}', {
        params: { path: { id }, query: reason ? { reason } : {} },
      });
      return { card: unwrap(result), etag: result.response.headers.get('etag') };
    },
    gcTime: 0,
    staleTime: Number.POSITIVE_INFINITY,
  });
}

export async function patchCard(id: string, body: CardPatch, etag?: string | null) {
  return unwrap(
    await api.PATCH('/api/v1/cards/{id}', {
      params: { path: { id } },
      body,
      ...(etag ? { headers: { 'if-match': etag } } : {}),
    }),
  );
}

export const money = (card: Pick<CardRecord, 'value' | 'currency'>) =>
  card.value === null ? '—' : `${card.value}${card.currency ? ` ${card.currency}` : ''}`;
