import { Type } from 'typebox';
import { NO_CONTROL_CHARACTERS } from '../../http/text-patterns.js';
import { TokenPair } from '../auth/schemas.js';
import { USER_EXAMPLE, UserRef } from '../users/schemas.js';

const Method = Type.Union(
  [Type.Literal('totp'), Type.Literal('webauthn'), Type.Literal('recovery_code')],
  {
    description:
      'totp: a code of the authenticator app; webauthn: a passkey (POST /auth/login/mfa/passkey/options, ' +
      'then POST /auth/login/mfa/passkey); recovery_code: one of the ten one-time codes',
  },
);

const CHALLENGE_EXAMPLE =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJjaWQiOiIwMTk0YzNhMiJ9.c2lnbmF0dXJl';
const RECOVERY_EXAMPLE = [
  'k7qm-2xva-p4re-nt6d',
  'a3hw-bq7z-m2kc-xe5t',
  'r6ny-d4gs-w3fp-j2la',
  'tq5e-h7mb-c2xv-k4ud',
  'z3wr-n6pq-e5ya-b7gk',
  'm4tc-x2jd-q7hn-v3rs',
  'f5ke-a3zw-t6bm-p2qy',
  'y2gd-r4nc-k5vx-h7et',
  'c6pa-m3ty-w2qe-d5jz',
  'x7hb-v4ks-n3rg-a6mw',
];

export const LoginChallengeResponse = Type.Object(
  {
    mfa_required: Type.Literal(true, {
      description: 'The password was right; a second step finishes the login',
    }),
    purpose: Type.Union([Type.Literal('mfa'), Type.Literal('enroll')], {
      description:
        'mfa: send a code to POST /auth/login/mfa. enroll: a second factor is required and the user has none: ' +
        'POST /auth/login/mfa/enroll for the secret and QR code, then the first code to POST /auth/login/mfa',
    }),
    challenge: Type.String({
      description: 'Signed, single-use token for the second step; valid for expires_in seconds',
    }),
    expires_in: Type.Integer(),
    methods: Type.Array(Method, {
      description: 'The second factors the user has (empty for enroll)',
    }),
  },
  {
    examples: [
      {
        mfa_required: true,
        purpose: 'mfa',
        challenge: CHALLENGE_EXAMPLE,
        expires_in: 300,
        methods: ['totp', 'recovery_code'],
      },
    ],
  },
);

const Challenge = Type.String({
  minLength: 1,
  maxLength: 2000,
  description: 'From POST /auth/login',
});
const Code = Type.String({
  minLength: 6,
  maxLength: 19,
  // Six digits, or 16 base32 characters in any case, in groups of four with or without
  // dashes or spaces: anything else is refused before any code is checked (or audited).
  pattern: '^(?:[0-9]{6}|[A-Za-z2-7]{4}(?:[ -]?[A-Za-z2-7]{4}){3})$',
  description:
    'A current 6-digit code of the authenticator app, or an unused recovery code (abcd-efgh-ijkl-mnop)',
});

export const LoginMfaBody = Type.Object(
  { challenge: Challenge, code: Code },
  {
    additionalProperties: false,
    examples: [
      { challenge: CHALLENGE_EXAMPLE, code: '492039' },
      { challenge: CHALLENGE_EXAMPLE, code: 'k7qm-2xva-p4re-nt6d' },
    ],
  },
);

export const LoginMfaResponse = Type.Object({
  ...TokenPair.properties,
  user: UserRef,
  recovery_codes: Type.Optional(
    Type.Array(Type.String(), {
      description: 'Only when this step enrolled the first factor: ten one-time codes, shown once',
    }),
  ),
});

export const LoginEnrollBody = Type.Object(
  { challenge: Challenge },
  { additionalProperties: false, examples: [{ challenge: CHALLENGE_EXAMPLE }] },
);

export const TotpEnrolmentResponse = Type.Object(
  {
    secret: Type.String({ description: 'The seed in base32, for apps that cannot scan' }),
    otpauth_uri: Type.String({ description: 'otpauth://totp/… (SHA-1, 6 digits, 30 s)' }),
    qr_code: Type.String({ description: 'The URI as a QR code: an SVG image as a data: URL' }),
  },
  {
    examples: [
      {
        secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
        otpauth_uri:
          'otpauth://totp/AccountDB:alice?issuer=AccountDB&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30',
        qr_code: 'data:image/svg+xml;base64,PHN2Zz4uLi48L3N2Zz4=',
      },
    ],
  },
);

export const MfaStatusResponse = Type.Object(
  {
    totp: Type.Object({
      enabled: Type.Boolean({ description: 'An authenticator app is confirmed' }),
      pending: Type.Boolean({ description: 'An enrolment waits for its confirming code' }),
      confirmed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
      last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    }),
    passkeys: Type.Integer({
      description: 'Registered passkeys (GET /auth/mfa/passkeys lists them)',
    }),
    recovery_codes_left: Type.Integer({ description: 'Unused recovery codes' }),
    methods: Type.Array(Method),
    required: Type.Boolean({ description: 'An admin requires a second factor of everyone' }),
  },
  {
    examples: [
      {
        totp: {
          enabled: true,
          pending: false,
          confirmed_at: '2026-12-06T20:00:00.000Z',
          last_used_at: '2026-12-06T20:05:00.000Z',
        },
        passkeys: 1,
        recovery_codes_left: 9,
        methods: ['totp', 'webauthn', 'recovery_code'],
        required: false,
      },
    ],
  },
);

export const CodeBody = Type.Object(
  { code: Code },
  { additionalProperties: false, examples: [{ code: '492039' }] },
);

export const RecoveryCodesResponse = Type.Object(
  {
    recovery_codes: Type.Array(Type.String(), {
      description: 'Ten one-time codes, shown once: store them somewhere safe',
    }),
  },
  { examples: [{ recovery_codes: RECOVERY_EXAMPLE }] },
);

export const MfaResetResponse = Type.Object(
  {
    user: UserRef,
    removed_factors: Type.Integer({ description: 'Confirmed factors removed' }),
  },
  { examples: [{ user: USER_EXAMPLE, removed_factors: 1 }] },
);

// ---------------------------------------------------------------------------------------
// Passkeys (WebAuthn). The ceremonies' JSON is what @simplewebauthn/browser produces
// (RegistrationResponseJSON / AuthenticationResponseJSON); each field is bounded so an
// oversized or malformed one is refused with 400 before anything is decoded.
// ---------------------------------------------------------------------------------------

const B64URL = '^[A-Za-z0-9_-]*$';
const b64url = (maxLength: number, description: string) =>
  Type.String({ minLength: 1, maxLength, pattern: B64URL, description });
const CredentialId = b64url(1400, 'The credential id, base64url (at most 1023 bytes)');

const ExtensionResults = Type.Object(
  {},
  {
    additionalProperties: true,
    maxProperties: 16,
    description: 'getClientExtensionResults(), as the browser reports it',
  },
);
const Attachment = Type.Optional(
  Type.Union([Type.Literal('platform'), Type.Literal('cross-platform')]),
);

export const RegistrationCredential = Type.Object(
  {
    id: CredentialId,
    rawId: CredentialId,
    type: Type.Literal('public-key'),
    response: Type.Object(
      {
        clientDataJSON: b64url(4096, 'The client data, base64url'),
        attestationObject: b64url(16384, 'The attestation object (CBOR), base64url'),
        authenticatorData: Type.Optional(b64url(8192, 'The authenticator data, base64url')),
        transports: Type.Optional(
          Type.Array(Type.String({ maxLength: 32 }), { maxItems: 8, description: 'Transports' }),
        ),
        publicKeyAlgorithm: Type.Optional(Type.Integer()),
        publicKey: Type.Optional(b64url(4096, 'The public key (SPKI), base64url')),
      },
      { additionalProperties: false },
    ),
    clientExtensionResults: ExtensionResults,
    authenticatorAttachment: Attachment,
  },
  {
    additionalProperties: false,
    description: 'The new credential as @simplewebauthn/browser startRegistration() answers it',
  },
);

export const AuthenticationCredential = Type.Object(
  {
    id: CredentialId,
    rawId: CredentialId,
    type: Type.Literal('public-key'),
    response: Type.Object(
      {
        clientDataJSON: b64url(4096, 'The client data, base64url'),
        authenticatorData: b64url(8192, 'The authenticator data, base64url'),
        signature: b64url(2048, 'The signature, base64url'),
        userHandle: Type.Optional(b64url(128, 'The user handle, base64url')),
      },
      { additionalProperties: false },
    ),
    clientExtensionResults: ExtensionResults,
    authenticatorAttachment: Attachment,
  },
  {
    additionalProperties: false,
    description: 'The assertion as @simplewebauthn/browser startAuthentication() answers it',
  },
);

const ChallengeId = Type.String({
  format: 'uuid',
  description: 'challenge_id of the options this answers (single-use, 5 minutes)',
});

const PASSKEY_OPTIONS_EXAMPLE = {
  challenge_id: '0194c3a2-7b7e-7c3e-9f1a-2b3c4d5e6f70',
  options: {
    challenge: 'q2xQm3F4mFhV1mY0b3dN7mR6p8sL0tJc9kZ1aW2eX3c',
    rpId: 'accountdb.example.com',
    timeout: 300000,
    userVerification: 'required',
  },
};

export const PasskeyOptionsResponse = Type.Object(
  {
    challenge_id: Type.String({
      format: 'uuid',
      description:
        'Send it back with the answer; the challenge is stored server-side and used once',
    }),
    options: Type.Object(
      {},
      {
        additionalProperties: true,
        description:
          'PublicKeyCredentialCreationOptionsJSON (registration) or PublicKeyCredentialRequestOptionsJSON ' +
          '(assertion), for @simplewebauthn/browser startRegistration() / startAuthentication()',
      },
    ),
  },
  { examples: [PASSKEY_OPTIONS_EXAMPLE] },
);

export const PasskeyProof = Type.Object(
  { challenge_id: ChallengeId, credential: AuthenticationCredential },
  {
    additionalProperties: false,
    description:
      'A fresh passkey assertion for the options of POST /auth/mfa/passkeys/verify-options',
  },
);

const freshFactor = {
  code: Type.Optional(Code),
  passkey: Type.Optional(PasskeyProof),
};

const PasskeyName = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: NO_CONTROL_CHARACTERS,
  description:
    'A name to tell the passkey apart (1-100 characters, not only spaces, no control characters)',
});

export const NewPasskeyBody = Type.Object(
  {
    name: PasskeyName,
    challenge_id: ChallengeId,
    credential: RegistrationCredential,
    ...freshFactor,
  },
  { additionalProperties: false },
);

export const FreshFactorBody = Type.Object(freshFactor, {
  additionalProperties: false,
  examples: [{ code: '492039' }],
});

export const RenamePasskeyBody = Type.Object(
  { name: PasskeyName },
  { additionalProperties: false, examples: [{ name: 'Laptop (Touch ID)' }] },
);

const PASSKEY_EXAMPLE = {
  id: '0194c3a2-7b7e-7c3e-9f1a-2b3c4d5e6f71',
  name: 'Laptop (Touch ID)',
  device_type: 'multiDevice',
  backed_up: true,
  transports: ['internal', 'hybrid'],
  created_at: '2026-12-06T20:00:00.000Z',
  last_used_at: '2026-12-06T21:00:00.000Z',
};

export const Passkey = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    device_type: Type.Union([Type.Literal('singleDevice'), Type.Literal('multiDevice')], {
      description: 'multiDevice: a synced passkey (the authenticator may back it up)',
    }),
    backed_up: Type.Boolean({ description: 'The authenticator reports the passkey backed up' }),
    transports: Type.Array(Type.String()),
    created_at: Type.String({ format: 'date-time' }),
    last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { examples: [PASSKEY_EXAMPLE] },
);

export const PasskeyList = Type.Object(
  { items: Type.Array(Passkey) },
  { examples: [{ items: [PASSKEY_EXAMPLE] }] },
);

export const NewPasskeyResponse = Type.Object(
  {
    passkey: Passkey,
    recovery_codes: Type.Optional(
      Type.Array(Type.String(), {
        description:
          'Only when this passkey is the first second factor: ten one-time codes, shown once',
      }),
    ),
  },
  { examples: [{ passkey: PASSKEY_EXAMPLE }] },
);

const ASSERTION_EXAMPLE = {
  id: 'hB2d7Qn1mX0r4yPz9WcA3g',
  rawId: 'hB2d7Qn1mX0r4yPz9WcA3g',
  type: 'public-key',
  response: {
    clientDataJSON:
      'eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoicTJ4UW0zRjRtRmhWMW1ZMGIzZE43bVI2cDhzTDB0SmM5a1oxYVcyZVgzYyIsIm9yaWdpbiI6Imh0dHBzOi8vYWNjb3VudGRiLmV4YW1wbGUuY29tIn0',
    authenticatorData: 'SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAQ',
    signature:
      'MEUCIQDqD0Yx4h3nqgq0XkU2QmRzR1xZ5m0a9oQ2bX0bX1N3sAIgV8cT7tSxq2V8Jv1e7lq3sYk0yqS1u3nX8a9w0m2bQ1c',
    userHandle: 'AZTDonsffD6fGisrPE1ecA',
  },
  clientExtensionResults: {},
  authenticatorAttachment: 'platform',
};

export const LoginPasskeyOptionsBody = Type.Object(
  { challenge: Challenge },
  { additionalProperties: false, examples: [{ challenge: CHALLENGE_EXAMPLE }] },
);

export const LoginPasskeyBody = Type.Object(
  { challenge: Challenge, challenge_id: ChallengeId, credential: AuthenticationCredential },
  {
    additionalProperties: false,
    examples: [
      {
        challenge: CHALLENGE_EXAMPLE,
        challenge_id: PASSKEY_OPTIONS_EXAMPLE.challenge_id,
        credential: ASSERTION_EXAMPLE,
      },
    ],
  },
);

export const PasswordlessBody = Type.Object(
  { challenge_id: ChallengeId, credential: AuthenticationCredential },
  {
    additionalProperties: false,
    examples: [
      { challenge_id: PASSKEY_OPTIONS_EXAMPLE.challenge_id, credential: ASSERTION_EXAMPLE },
    ],
  },
);
