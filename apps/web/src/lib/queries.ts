'use client';

import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from './api';
import { usePollInterval } from './live-updates';

export const queryKeys = {
  setup: ['auth', 'setup'] as const,
  dashboard: ['dashboard'] as const,
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
 * GET /dashboard: refetched by live updates on a change, polled every 10 seconds while they
 * are off (and while the page is visible), every minute while they are on (sync ages, nodes
 * turning stale).
 */
export function useDashboard() {
  const poll = usePollInterval(10_000, 60_000);
  return useQuery({
    queryKey: queryKeys.dashboard,
    queryFn: async () => unwrap(await api.GET('/api/v1/dashboard')),
    refetchInterval: poll,
  });
}
