import type { components, paths } from './schema';

export type User = components['schemas']['User'];
/** Tokens and user of a finished login, setup or refresh (a login may first ask for a code). */
export type LoginResponse =
  paths['/api/v1/auth/refresh']['post']['responses'][200]['content']['application/json'];

/** Header the API requires on calls that authenticate with the refresh cookie. */
export const CSRF_HEADER = 'x-accountdb-csrf';

export interface Session {
  accessToken: string;
  /** Milliseconds since the epoch after which the access token is refreshed before use. */
  refreshAfter: number;
  user: User;
}

/**
 * The login session of this browser tab. The access token lives only here, in memory; the
 * refresh token is an HttpOnly cookie the page never sees. A reload therefore starts with no
 * access token and gets a new one from POST /auth/refresh.
 */
export class SessionStore {
  private session: Session | null = null;
  private refreshing: Promise<Session | null> | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
    private readonly baseUrl = '',
  ) {}

  get current(): Session | null {
    return this.session;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): Session | null => this.session;

  /** Keeps the tokens of a login, setup or refresh answer. */
  set(answer: LoginResponse): Session {
    // Refresh a minute early (or at half the lifetime for very short tokens).
    const margin = Math.min(60, answer.expires_in / 2) * 1000;
    this.session = {
      accessToken: answer.access_token,
      refreshAfter: Date.now() + answer.expires_in * 1000 - margin,
      user: answer.user,
    };
    this.emit();
    return this.session;
  }

  clear(): void {
    if (this.session === null) return;
    this.session = null;
    this.emit();
  }

  /**
   * Gets a new access token with the refresh cookie. Concurrent callers share one request,
   * because each refresh token can be used once. Resolves to null when the session has ended.
   */
  refresh(): Promise<Session | null> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** An access token that is not about to expire, refreshing first when needed. */
  async accessToken(): Promise<string | null> {
    const s = this.session;
    if (s && Date.now() < s.refreshAfter) return s.accessToken;
    return (await this.refresh())?.accessToken ?? null;
  }

  /** Ends the session on the server (refresh cookie and access token) and here. */
  async logout(): Promise<void> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      [CSRF_HEADER]: '1',
    };
    if (this.session) headers.authorization = `Bearer ${this.session.accessToken}`;
    try {
      await this.fetchImpl(`${this.baseUrl}/api/v1/auth/logout`, {
        method: 'POST',
        headers,
        body: '{}',
        credentials: 'same-origin',
      });
    } finally {
      this.clear();
    }
  }

  private async doRefresh(): Promise<Session | null> {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.fetchImpl(`${this.baseUrl}/api/v1/auth/refresh`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [CSRF_HEADER]: '1' },
          body: '{}',
          credentials: 'same-origin',
        });
      } catch {
        // Network trouble is not the end of the session: keep what we have.
        return this.session;
      }
      if (res.ok) return this.set((await res.json()) as LoginResponse);
      // Too many requests or a server in trouble: not the end of the session. Wait as told
      // (at most 10 s) and try again, twice at most; then keep what we have.
      if (res.status === 429 || res.status >= 500) {
        if (attempt >= 2) return this.session;
        const wait = Math.min(Number(res.headers.get('retry-after')) || 1, 10);
        await new Promise((resolve) => setTimeout(resolve, wait * 1000));
        continue;
      }
      // 400/401/403: the refresh cookie is missing, used up or revoked.
      this.clear();
      return null;
    }
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}
