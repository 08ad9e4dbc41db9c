import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';

/**
 * A software WebAuthn authenticator for the API tests: one ES256 (ECDSA P-256, SHA-256)
 * credential made with node:crypto, answering registration and assertion ceremonies with the
 * bytes a browser and a platform authenticator would send. The bytes follow W3C Web
 * Authentication Level 2:
 * - §5.8.1 CollectedClientData: clientDataJSON {type, challenge, origin, crossOrigin}, UTF-8.
 * - §6.1 authenticator data: SHA-256(rpId) (32) ‖ flags (1: UP 0x01, UV 0x04, BE 0x08,
 *   BS 0x10, AT 0x40) ‖ signCount (4, big-endian) ‖ with AT, attested credential data
 *   (§6.5.1): AAGUID (16) ‖ credentialIdLength (2, big-endian) ‖ credentialId ‖ the
 *   credential public key as a COSE_Key (RFC 9052 §7, EC2: 1 kty=2, 3 alg=-7, -1 crv=1 P-256,
 *   -2 x, -3 y), CBOR-encoded.
 * - §6.5.4 / §8.7 attestation object, format "none": CBOR map {fmt: "none", attStmt: {},
 *   authData: bytes}.
 * - §6.3.3 authenticatorGetAssertion: the signature is ECDSA over authenticatorData ‖
 *   SHA-256(clientDataJSON), DER-encoded (§6.5.6), which §7.2 steps 20-21 verify.
 * The JSON around the bytes is what @simplewebauthn/browser hands the server
 * (RegistrationResponseJSON / AuthenticationResponseJSON, every binary as base64url).
 */

// ---- a tiny CBOR encoder (RFC 8949, definite lengths): what the attestation object needs ----

type Cbor = number | string | Uint8Array | Cbor[] | Map<Cbor, Cbor> | { [key: string]: Cbor };

function head(major: number, value: number): Buffer {
  const m = major << 5;
  if (value < 24) return Buffer.from([m | value]);
  if (value < 0x100) return Buffer.from([m | 24, value]);
  if (value < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = m | 25;
    b.writeUInt16BE(value, 1);
    return b;
  }
  const b = Buffer.alloc(5);
  b[0] = m | 26;
  b.writeUInt32BE(value, 1);
  return b;
}

export function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error('cbor: integers only');
    return value >= 0 ? head(0, value) : head(1, -1 - value);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(cbor)]);
  const entries: Array<[Cbor, Cbor]> =
    value instanceof Map ? [...value.entries()] : Object.entries(value);
  return Buffer.concat([
    head(5, entries.length),
    ...entries.flatMap(([k, v]) => [cbor(k), cbor(v)]),
  ]);
}

// ---- the authenticator ----

export const FLAGS = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 } as const;

const b64u = (b: Uint8Array | string) => Buffer.from(b).toString('base64url');
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest();

export interface CeremonyOverrides {
  /** The challenge written into clientDataJSON (default: the one in the options). */
  challenge?: string;
  origin?: string;
  rpId?: string;
  /** The signature counter to report (default: one more than the last). */
  counter?: number;
  flags?: number;
  /** Sign with another key: a forged assertion. */
  signWith?: KeyObject;
  /** The user handle in an assertion (default: the one registered; null: none). */
  userHandle?: string | null;
  type?: string;
}

export class SoftAuthenticator {
  readonly credentialId: Buffer = randomBytes(16);
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The last signature counter this authenticator reported. */
  signCount = 0;
  userHandle: string | null = null;

  constructor(
    readonly rp: { id: string; origin: string },
    options: { counterStart?: number } = {},
  ) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
    this.signCount = options.counterStart ?? 0;
  }

  get id(): string {
    return b64u(this.credentialId);
  }

  /** The COSE_Key of the credential (RFC 9052 §7.1, EC2 P-256, alg ES256). */
  coseKey(): Buffer {
    const jwk = this.publicKey.export({ format: 'jwk' });
    return cbor(
      new Map<Cbor, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x ?? '', 'base64url')],
        [-3, Buffer.from(jwk.y ?? '', 'base64url')],
      ]),
    );
  }

  /** §6.1 authenticator data, with attested credential data when `attested`. */
  authData(options: { rpId: string; flags: number; counter: number; attested: boolean }): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(options.counter, 0);
    const parts: Uint8Array[] = [sha256(options.rpId), Buffer.from([options.flags]), count];
    if (options.attested) {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(this.credentialId.length, 0);
      parts.push(Buffer.alloc(16), len, this.credentialId, this.coseKey());
    }
    return Buffer.concat(parts);
  }

  clientData(type: string, challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }), 'utf8');
  }

  /** Answers registration options (as startRegistration() would). */
  register(options: { challenge: string; user?: { id: string } }, o: CeremonyOverrides = {}) {
    if (options.user?.id) this.userHandle = options.user.id;
    const counter = o.counter ?? this.signCount;
    const authData = this.authData({
      rpId: o.rpId ?? this.rp.id,
      flags: o.flags ?? FLAGS.UP | FLAGS.UV | FLAGS.AT,
      counter,
      attested: true,
    });
    const clientDataJSON = this.clientData(
      o.type ?? 'webauthn.create',
      o.challenge ?? options.challenge,
      o.origin ?? this.rp.origin,
    );
    const attestationObject = cbor({ fmt: 'none', attStmt: {}, authData });
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      response: {
        clientDataJSON: b64u(clientDataJSON),
        attestationObject: b64u(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform' as const,
    };
  }

  /** Answers assertion options (as startAuthentication() would); counts up its counter. */
  assert(options: { challenge: string }, o: CeremonyOverrides = {}) {
    const counter = o.counter ?? this.signCount + 1;
    if (o.counter === undefined) this.signCount = counter;
    const authData = this.authData({
      rpId: o.rpId ?? this.rp.id,
      flags: o.flags ?? FLAGS.UP | FLAGS.UV,
      counter,
      attested: false,
    });
    const clientDataJSON = this.clientData(
      o.type ?? 'webauthn.get',
      o.challenge ?? options.challenge,
      o.origin ?? this.rp.origin,
    );
    const signature = sign(
      'sha256',
      Buffer.concat([authData, sha256(clientDataJSON)]),
      o.signWith ?? this.privateKey,
    );
    const handle = o.userHandle === undefined ? this.userHandle : o.userHandle;
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        ...(handle ? { userHandle: handle } : {}),
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform' as const,
    };
  }
}
