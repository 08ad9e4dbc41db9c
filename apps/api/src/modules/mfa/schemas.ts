import { Type } from 'typebox';
import { TokenPair } from '../auth/schemas.js';
import { USER_EXAMPLE, UserRef } from '../users/schemas.js';

const Method = Type.Union([Type.Literal('totp'), Type.Literal('recovery_code')], {
  description:
    'totp: a code of the authenticator app; recovery_code: one of the ten one-time codes',
});

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
        recovery_codes_left: 9,
        methods: ['totp', 'recovery_code'],
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
