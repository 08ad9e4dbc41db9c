import { BadRequestError, InvalidJsonError } from '../../http/errors.js';
import type { UploadScan, UploadScanner } from '../../http/upload.js';

/**
 * An encrypted SDA .maFile sent to POST /accounts/import (which reads JSON, JSON lines and
 * CSV) is one line of base64 whose bytes are whole AES blocks. Told apart while the upload
 * arrives (holding only a few counters), it is answered with what to do instead of
 * `invalid_json` or a CSV of one odd column.
 */

const BASE64 = /^[A-Za-z0-9+/=]*$/;

export function encryptedMaFileError(): BadRequestError {
  return new BadRequestError(
    'The upload is an encrypted Steam Desktop Authenticator .maFile: import it with the manifest.json beside ' +
      'it and the SDA passkey through POST /accounts/import/mafiles (web: Import accounts → Steam Guard folder; ' +
      'CLI: accountdb import accounts <maFiles folder>).',
    'mafile_encrypted',
  );
}

/** `inner`, refusing an upload that is an encrypted .maFile with encryptedMaFileError. */
export function encryptedMaFileAware(inner: UploadScanner): UploadScanner {
  let base64 = true;
  let chars = 0;
  let pads = 0;
  let trailing = false;
  let deferred: unknown;
  const watch = (piece: string) => {
    if (!base64) return;
    let text = piece;
    if (chars === 0) text = text.replace(/^[\s\uFEFF]+/, '');
    // Only a line break (or spaces) may end the one line; nothing may follow them.
    const match = /^([^\s]*)(\s*)$/.exec(text);
    if (!match || (trailing && match[1] !== '')) {
      base64 = false;
      return;
    }
    const body = match[1] ?? '';
    // "=" only at the very end, at most two of them.
    if (!BASE64.test(body) || /=[^=]/.test(body) || (pads > 0 && /[^=]/.test(body))) {
      base64 = false;
    }
    pads += body.length - body.replace(/=/g, '').length;
    if (pads > 2) base64 = false;
    chars += body.length;
    if (match[2]) trailing = true;
  };
  /** Whole AES blocks: the decoded length is a multiple of 16. */
  const looksEncrypted = () => {
    const bytes = (chars / 4) * 3 - pads;
    return base64 && chars >= 24 && chars % 4 === 0 && bytes % 16 === 0;
  };
  return {
    push(piece) {
      watch(piece);
      if (deferred !== undefined) return;
      try {
        inner.push(piece);
      } catch (err) {
        // Not JSON may yet turn out to be ciphertext: decided at the end.
        if (!(err instanceof InvalidJsonError) || !base64) throw err;
        deferred = err;
      }
    },
    end(): UploadScan {
      if (looksEncrypted()) throw encryptedMaFileError();
      if (deferred !== undefined) throw deferred;
      return inner.end();
    },
  };
}
