import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';
import type { SessionStore } from './session';

/** Routes that work without an access token; a 401 from them is an answer, not an expiry. */
const PUBLIC_AUTH =
  /\/api\/v1\/auth\/(setup|login|login\/mfa|login\/mfa\/enroll|login\/mfa\/passkey(\/options)?|login\/passkey(\/options)?|register|refresh|logout)$/;

export interface ApiClientOptions {
  session: SessionStore;
  /** Called once the session cannot be renewed (the refresh cookie is gone or revoked). */
  onSessionEnd: () => void;
  baseUrl?: string;
  fetch?: typeof fetch;
}

/**
 * The typed API client: every path, parameter and answer comes from schema.d.ts. Its
 * middleware adds the in-memory access token, refreshes it when it is about to expire, and on
 * a 401 refreshes once and sends the request again; when that fails the session has ended.
 */
export function createApiClient(options: ApiClientOptions) {
  const { session, onSessionEnd } = options;
  const fetchImpl = options.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  /** Copies of requests in flight, and whether the token of each was already found missing. */
  const pending = new Map<string, { copy: Request; noSession: boolean }>();

  const auth: Middleware = {
    async onRequest({ request, id }) {
      if (PUBLIC_AUTH.test(new URL(request.url).pathname)) return request;
      const token = await session.accessToken();
      if (token) request.headers.set('authorization', `Bearer ${token}`);
      // Kept to send again after a refresh (the body of the original is used up by then).
      pending.set(id, { copy: request.clone(), noSession: token === null });
      return request;
    },
    async onResponse({ response, id }) {
      const entry = pending.get(id);
      pending.delete(id);
      if (!entry || response.status !== 401) return response;
      const original = entry.copy;
      const renewed = entry.noSession ? null : await session.refresh();
      if (!renewed) {
        onSessionEnd();
        return response;
      }
      const retry = new Request(original, { headers: new Headers(original.headers) });
      retry.headers.set('authorization', `Bearer ${renewed.accessToken}`);
      const second = await fetchImpl(retry);
      if (second.status === 401) {
        session.clear();
        onSessionEnd();
      }
      return second;
    },
    onError({ id }) {
      pending.delete(id);
    },
  };

  const client = createClient<paths>({
    baseUrl: options.baseUrl ?? '',
    fetch: fetchImpl,
    credentials: 'same-origin',
  });
  client.use(auth);
  return client;
}

export type ApiClient = ReturnType<typeof createApiClient>;
