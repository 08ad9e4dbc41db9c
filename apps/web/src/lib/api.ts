'use client';

import { useSyncExternalStore } from 'react';
import { createApiClient } from '../api/client';
import { ApiError } from '../api/problem';
import { SessionStore } from '../api/session';

/** The session of this tab: the access token in memory, the refresh token in a cookie. */
export const session = new SessionStore();

/** Where a person goes when their session ends: the login page, then back here. */
export function loginUrl(next?: string): string {
  const path = next ?? `${window.location.pathname}${window.location.search}`;
  return path && path !== '/' && path !== '/login'
    ? `/login?next=${encodeURIComponent(path)}`
    : '/login';
}

/** The typed API client of the app. */
export const api = createApiClient({
  session,
  onSessionEnd: () => {
    if (window.location.pathname !== '/login') window.location.assign(loginUrl());
  },
});

/** The current session (null when logged out), re-rendering on login, refresh and logout. */
export function useSession() {
  return useSyncExternalStore(session.subscribe, session.getSnapshot, () => null);
}

/** The data of an openapi-fetch answer, or an ApiError carrying its problem. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    throw new ApiError(result.response.status, result.error);
  }
  return result.data as T;
}

/** Only paths on this site are followed after login, never another origin. */
export function safeNext(next: string | null | undefined): string {
  if (!next?.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  return next;
}
