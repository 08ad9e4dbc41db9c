'use client';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { ApiClient } from '../../api/client';
import type { components, paths } from '../../api/schema';
import { api, unwrap } from '../../lib/api';

/** The answer of POST /auth/login: the session, or the challenge of a second step. */
export type LoginAnswer =
  paths['/api/v1/auth/login']['post']['responses'][200]['content']['application/json'];
export type LoginChallenge = Extract<LoginAnswer, { mfa_required: true }>;
export type LoginSession = Exclude<LoginAnswer, { mfa_required: true }>;
export type SecondStepAnswer =
  paths['/api/v1/auth/login/mfa']['post']['responses'][200]['content']['application/json'];
export type TotpEnrolment =
  paths['/api/v1/auth/mfa/totp']['post']['responses'][200]['content']['application/json'];
export type MfaStatus =
  paths['/api/v1/auth/mfa']['get']['responses'][200]['content']['application/json'];
export type Settings =
  paths['/api/v1/settings']['get']['responses'][200]['content']['application/json'];
export type User = components['schemas']['User'];

export const isChallenge = (answer: LoginAnswer): answer is LoginChallenge =>
  'mfa_required' in answer && answer.mfa_required === true;

export const mfaKeys = {
  mine: ['mfa', 'mine'] as const,
  user: (id: string) => ['mfa', 'user', id] as const,
  settings: ['settings'] as const,
};

// The login steps take the client as an argument (the login form's tests pass their own).

export function sendSecondStep(client: ApiClient, body: { challenge: string; code: string }) {
  return client.POST('/api/v1/auth/login/mfa', { body });
}

export function startLoginEnrolment(client: ApiClient, challenge: string) {
  return client.POST('/api/v1/auth/login/mfa/enroll', { body: { challenge } });
}

export function useMyMfa() {
  return useQuery({
    queryKey: mfaKeys.mine,
    queryFn: async () => unwrap(await api.GET('/api/v1/auth/mfa')),
  });
}

type FreshFactor = NonNullable<
  paths['/api/v1/auth/mfa/totp']['post']['requestBody']
>['content']['application/json'];
/** Starts setting up an app; a user with passkeys sends a fresh factor (a passkey) with it. */
export const startEnrolment = (proof?: FreshFactor) =>
  api.POST('/api/v1/auth/mfa/totp', { body: proof ?? {} });
export const confirmEnrolment = (code: string) =>
  api.POST('/api/v1/auth/mfa/totp/confirm', { body: { code } });
export const disableMfa = (code: string) =>
  api.POST('/api/v1/auth/mfa/disable', { body: { code } });
export const newRecoveryCodes = (code: string) =>
  api.POST('/api/v1/auth/mfa/recovery-codes', { body: { code } });

export function useUserMfa(id: string) {
  return useQuery({
    queryKey: mfaKeys.user(id),
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/users/{id}/mfa', { params: { path: { id } } })),
  });
}

export async function resetUserMfa(id: string) {
  return unwrap(await api.DELETE('/api/v1/users/{id}/mfa', { params: { path: { id } } }));
}

export function useSettings() {
  return useQuery({
    queryKey: mfaKeys.settings,
    queryFn: async () => unwrap(await api.GET('/api/v1/settings')),
  });
}

export function useSaveSettings() {
  const queryClient = useQueryClient();
  return async (body: { mfa_required: boolean }) => {
    const saved = unwrap(await api.PATCH('/api/v1/settings', { body }));
    queryClient.setQueryData(mfaKeys.settings, saved);
    return saved;
  };
}
