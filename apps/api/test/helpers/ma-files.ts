import { createCipheriv, pbkdf2Sync } from 'node:crypto';

/**
 * Steam Guard files as their tools write them, built here from the tools' sources (stated
 * per shape), and SDA's encryption done with node:crypto from SDA's own description, not
 * with AccountDB's code.
 */

/** 20-byte Steam secrets (standard base64), public test values. */
export const SHARED = '+/8/++9++/4P4P/j/7+++//+//8=';
export const IDENTITY = 'AQIDBAUGBwgJCgsMDQ4PEBESExQ=';

/**
 * Steam Desktop Authenticator, older files: geel9/SteamAuth (the library SDA serialises with
 * Newtonsoft.Json) SteamGuardAccount.cs fields, Session = the old SessionData {SessionID,
 * SteamLogin, SteamLoginSecure, WebCookie, OAuthToken, SteamID}; SteamID is a ulong, written
 * as a bare JSON number (cf. steamguard-cli src/fixtures/maFiles/compat/1-account/1234.maFile).
 * Returned as text: the id must stay a 17-digit number literal.
 */
export function sdaOldText(o: { steamId: string; name: string; serial: string }): string {
  return (
    `{"shared_secret":"${SHARED}","serial_number":"${o.serial}","revocation_code":"R12345",` +
    `"uri":"otpauth://totp/Steam:${o.name}?secret=ASDF&issuer=Steam","server_time":1602522478,` +
    `"account_name":"${o.name}","token_gid":"2a1b3c4d5e6f","identity_secret":"${IDENTITY}",` +
    `"secret_1":"c2VjcmV0MQ==","status":1,"device_id":"android:99d2ad0e-4bad-4247-b111-26393aae0be3",` +
    `"fully_enrolled":true,"Session":{"SessionID":"sess-old","SteamLogin":"${o.steamId}%7C%7Cx",` +
    `"SteamLoginSecure":"${o.steamId}%7C%7Cy","WebCookie":"wc","OAuthToken":"oauth-old","SteamID":${o.steamId}}}`
  );
}

/**
 * SDA, current files: SteamGuardAccount.cs adds phone_number_hint and confirm_type;
 * SessionData.cs is {SteamID (ulong), AccessToken, RefreshToken, SessionID}.
 */
export function sdaNewText(o: { steamId: string; name: string; serial: string }): string {
  return (
    `{"shared_secret":"${SHARED}","serial_number":"${o.serial}","revocation_code":"R23456",` +
    `"uri":"otpauth://totp/Steam:${o.name}?secret=QWER&issuer=Steam","server_time":1717171717,` +
    `"account_name":"${o.name}","token_gid":"3b4c5d6e7f80","identity_secret":"${IDENTITY}",` +
    `"secret_1":"c2VjcmV0Mg==","status":1,"device_id":"android:0d9f1c2e-5b1a-4c3e-9a7b-2f6e8d0c4b1a",` +
    `"phone_number_hint":"12","confirm_type":1,"fully_enrolled":true,` +
    `"Session":{"SteamID":${o.steamId},"AccessToken":"eyJhY2Nlc3MifQ.a.b","RefreshToken":"eyJyZWZyZXNoIn0.c.d","SessionID":"sess-new"}}`
  );
}

/**
 * steamguard-cli, current: steamguard/src/lib.rs SteamGuardAccount {account_name, steam_id
 * (u64, a number), serial_number, revocation_code, shared_secret, token_gid, identity_secret,
 * uri, device_id, secret_1, tokens: {access_token, refresh_token} | null} (cf.
 * src/fixtures/maFiles/manifest-v1/1-account/1234.maFile; steamguard/src/token.rs Tokens).
 */
export function steamguardCliText(o: { steamId: string; name: string; serial: string }): string {
  return (
    `{"account_name":"${o.name}","steam_id":${o.steamId},"serial_number":"${o.serial}",` +
    `"revocation_code":"R34567","shared_secret":"${SHARED}","token_gid":"4c5d6e7f8091",` +
    `"identity_secret":"${IDENTITY}","uri":"otpauth://totp/Steam:${o.name}?secret=ZXCV&issuer=Steam",` +
    `"device_id":"android:11111111-2222-3333-4444-555555555555","secret_1":"c2VjcmV0Mw==",` +
    `"tokens":{"access_token":"eyJjbGkifQ.e.f","refresh_token":"eyJjbGlyIn0.g.h"}}`
  );
}

/**
 * The Steam mobile app's v2 backup: steamguard-cli src/accountmanager/steamv2.rs and its
 * fixture src/fixtures/maFiles/compat/steamv2/sample.maFile: steamid and server_time are
 * strings, steamguard_scheme "2", no device_id.
 */
export function steamV2Text(o: { steamId: string; name: string; serial: string }): string {
  return JSON.stringify(
    {
      steamid: o.steamId,
      shared_secret: SHARED,
      serial_number: o.serial,
      revocation_code: 'R52260',
      uri: `otpauth://totp/Steam:${o.name}?secret=SERFV3QX3OX4EL2F&issuer=Steam`,
      server_time: '1700000123',
      account_name: o.name,
      token_gid: '2d5a1b6cdbbfa9cc',
      identity_secret: IDENTITY,
      secret_1: 'BEelQHBr74ahsgiJbGArNV62/Bs=',
      status: 1,
      steamguard_scheme: '2',
    },
    null,
    '\t',
  );
}

/**
 * SDA's encryption (Jessecar96/SteamDesktopAuthenticator, FileEncryptor.cs): key =
 * Rfc2898DeriveBytes(passkey, base64-decoded salt, 50,000 rounds) — PBKDF2 with HMAC-SHA1 —
 * 32 bytes; AES-256 (RijndaelManaged) in CBC mode with PKCS7 padding and the entry's IV; the
 * file is Convert.ToBase64String of the ciphertext. Salt 8 bytes, IV 16, both base64 in
 * manifest.json (Manifest.cs ManifestEntry: encryption_iv, encryption_salt, filename, steamid).
 */
export function sdaEncrypt(o: { passkey: string; salt: Buffer; iv: Buffer; text: string }) {
  const key = pbkdf2Sync(Buffer.from(o.passkey, 'utf8'), o.salt, 50_000, 32, 'sha1');
  const cipher = createCipheriv('aes-256-cbc', key, o.iv);
  return Buffer.concat([cipher.update(o.text, 'utf8'), cipher.final()]).toString('base64');
}

/** An SDA manifest.json (Manifest.cs property names); steamid a bare number, as SDA writes it. */
export function sdaManifest(o: {
  encrypted: boolean;
  entries: Array<{ filename: string; steamId: string; salt?: Buffer; iv?: Buffer }>;
}): string {
  const entries = o.entries.map(
    (e) =>
      `{"encryption_iv":${e.iv ? `"${e.iv.toString('base64')}"` : 'null'},` +
      `"encryption_salt":${e.salt ? `"${e.salt.toString('base64')}"` : 'null'},` +
      `"filename":"${e.filename}","steamid":${e.steamId}}`,
  );
  return (
    `{"encrypted":${o.encrypted},"first_run":false,"entries":[${entries.join(',')}],` +
    '"periodic_checking":false,"periodic_checking_interval":5,"periodic_checking_checkall":false,' +
    '"auto_confirm_market_transactions":false,"auto_confirm_trades":false}'
  );
}

/**
 * An encrypted file made by SDA-compatible code that is not ours: steamguard-cli's fixture
 * src/fixtures/maFiles/compat/1-account-encrypted/ (1234.maFile and manifest.json), passkey
 * "password" (its tests in src/accountmanager/migrate.rs). Decrypted, it is SDA's older shape
 * with account_name "example", SteamID 1234, shared_secret "zvIayp3JPvtvX/QGHqsqKBk/44s=" and a
 * dummy 8-byte identity_secret "kjsdlwowiqe=".
 */
export const STEAMGUARD_CLI_ENCRYPTED = {
  passkey: 'password',
  manifest:
    '{"encrypted":true,"first_run":true,"entries":[{"encryption_iv":"ifChnv66eA+/dYqGsQMIOA==","encryption_salt":"O2K8FAOWK9c=","filename":"1234.maFile","steamid":1234}],"periodic_checking":false,"periodic_checking_interval":5,"periodic_checking_checkall":false,"auto_confirm_market_transactions":false,"auto_confirm_trades":false}',
  file: 'ZQqJk4KW7pb5bndkra244z3ttIks58UplODn5IgljrOK3bKORSwrnZYb9Iv6YsirmrT0hQ3tx381GhQu4Nyj/PFHHCfFTrduaCoMLRrHDsmsexOW93Yo02acHXNfPSvxtjGfZpsuIZVlhVy8JDH/ESXp88cKn2zqjXQWu6pLnah1YPlpZuTfArw69+Em7V1OH1CoKnsYuhCo/x4u7fXhMNgDlRBvDbO4enGzaixonPu9er5Zp6iNEeuAUqmD0DHASygNmzBhUBHv8Avng8YKbvu611yQVT2KybnIoL+Q11Y36GoFhWskmG3lLwh/1OlReGwJ1iX0lDDthoel/Ygj6EC2+wkR8V7eMQf48R15xdBILYTzcrjtiuLCr9MBc/HM/ToEa3QCGwGkXvshR/meJ1BiqaRARKfvJcj4eMSpiUvhDe1QFXXjfXRdetJcknyJ8Pv6v10G/OV3ELYwdx2dYL5C+Ao4qj9QCjoD8bb/juCjtZoSxMncbm4T7ORbXs/Ulx+TEuOUmRAjxr+zaWzzO7ZfYJMhIPz+LSixKpaVmxP89DEK5LJ1T6jA50QmPft6AbOMuoq99haWH9lMgqrIfBB+ZNNHSEE9PwMUxhX/TQP3oJgmrnZcMV4nBOcovbWM5s+odu2mvzoAcRMHVxEztASbMBwdJ7amJvoRRrXTtp642FQHAe8pFPlW14x1hShXAO4YfYkmmAhLqlujammuQ6bRg7XjBvh0zE88i5UBRiRsH+MV35u3c0ciugUmbrAZ0u9Yfv19MNSMVNMsREDuxQ==',
};
