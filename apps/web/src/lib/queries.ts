'use client';

import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from './api';

export const queryKeys = {
  setup: ['auth', 'setup'] as const,
  dashboard: ['dashboard'] as const,
  dashboardOf: (all: boolean) => ['dashboard', all ? 'all' : 'own'] as const,
};

/** GET /auth/setup: is first-run setup needed, is registration open. */
export function useSetupStatus() {
  return useQuery({
    queryKey: queryKeys.setup,
    queryFn: async () => unwrap(await api.GET('/api/v1/auth/setup')),
    staleTime: 0,
  });
}

/**
 * GET /dashboard, polled every 10 seconds while the page is visible: it counts accounts, cards
 * and audit entries too, which no live event announces. VM and node events refetch it at once.
 */
export function useDashboard(all = false) {
  return useQuery({
    queryKey: queryKeys.dashboardOf(all),
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/dashboard', { params: { query: all ? { scope: 'all' } : {} } }),
      ),
    refetchInterval: 10_000,
  });
}
