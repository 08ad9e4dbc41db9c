'use client';

import {
  browserSupportsWebAuthn,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  startAuthentication,
  startRegistration,
} from '@simplewebauthn/browser';
import { useQuery } from '@tanstack/react-query';
import type { ApiClient } from '../../api/client';
import type { paths } from '../../api/schema';
import { api, unwrap } from '../../lib/api';

/**
 * Passkeys (WebAuthn) through @simplewebauthn/browser: the API answers options and a
 * challenge_id; the browser's ceremony answers a credential that goes back with that id.
 */

export type Passkey =
  paths['/api/v1/auth/mfa/passkeys']['get']['responses'][200]['content']['application/json']['items'][number];
type Credential =
  paths['/api/v1/auth/login/passkey']['post']['requestBody']['content']['application/json']['credential'];
type NewCredential =
  paths['/api/v1/auth/mfa/passkeys']['post']['requestBody']['content']['application/json']['credential'];

export const passkeysSupported = () => typeof window !== 'undefined' && browserSupportsWebAuthn();

export const passkeyKeys = { mine: ['mfa', 'passkeys'] as const };

/** A ceremony the user cancelled or the browser refused: a message, not a crash. */
export function ceremonyMessage(err: unknown): string {
  const name = (err as { name?: string })?.name;
  if (name === 'NotAllowedError' || name === 'AbortError')
    return 'The passkey prompt was cancelled or timed out.';
  if (name === 'InvalidStateError') return 'This authenticator holds a passkey of yours already.';
  return err instanceof Error ? err.message : 'The browser could not use a passkey.';
}

async function assertion(options: unknown): Promise<Credential> {
  const answer = await startAuthentication({
    optionsJSON: options as PublicKeyCredentialRequestOptionsJSON,
  });
  return answer as unknown as Credential;
}

/** Passwordless login: options, the browser's prompt, then the assertion. */
export async function passkeyLogin(client: ApiClient) {
  const started = await client.POST('/api/v1/auth/login/passkey/options', { body: {} });
  if (!started.data) return { data: undefined, error: started.error };
  const credential = await assertion(started.data.options);
  return client.POST('/api/v1/auth/login/passkey', {
    body: { challenge_id: started.data.challenge_id, credential },
  });
}

/** The second step of a login by passkey (the challenge of POST /auth/login). */
export async function passkeySecondStep(client: ApiClient, challenge: string) {
  const started = await client.POST('/api/v1/auth/login/mfa/passkey/options', {
    body: { challenge },
  });
  if (!started.data) return { data: undefined, error: started.error };
  const credential = await assertion(started.data.options);
  return client.POST('/api/v1/auth/login/mfa/passkey', {
    body: { challenge, challenge_id: started.data.challenge_id, credential },
  });
}

export function useMyPasskeys() {
  return useQuery({
    queryKey: passkeyKeys.mine,
    queryFn: async () => unwrap(await api.GET('/api/v1/auth/mfa/passkeys')).items,
  });
}

/** A fresh second factor: a code, or (none typed) an assertion of one of the user's passkeys. */
export type Proof =
  | { code: string }
  | { passkey: { challenge_id: string; credential: Credential } };

export async function passkeyProof(): Promise<Proof> {
  const started = unwrap(await api.POST('/api/v1/auth/mfa/passkeys/verify-options', { body: {} }));
  return {
    passkey: { challenge_id: started.challenge_id, credential: await assertion(started.options) },
  };
}

/** Adds a passkey: registration options, the browser's prompt, then the new credential. */
export async function addPasskey(name: string, proof: Proof | null) {
  const started = unwrap(await api.POST('/api/v1/auth/mfa/passkeys/options', { body: {} }));
  const credential = (await startRegistration({
    optionsJSON: started.options as unknown as PublicKeyCredentialCreationOptionsJSON,
  })) as unknown as NewCredential;
  return api.POST('/api/v1/auth/mfa/passkeys', {
    body: { name, challenge_id: started.challenge_id, credential, ...(proof ?? {}) },
  });
}

export const renamePasskey = (id: string, name: string) =>
  api.PATCH('/api/v1/auth/mfa/passkeys/{id}', { params: { path: { id } }, body: { name } });

export const removePasskey = (id: string, proof: Proof) =>
  api.POST('/api/v1/auth/mfa/passkeys/{id}/remove', { params: { path: { id } }, body: proof });
