import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { FastifyRequest, FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from './body-validator.js';
import { type AppError, PayloadTooLargeError } from './errors.js';
import { formatBytes } from './limits.js';

/** What a scanner found in a whole upload. */
export interface UploadScan {
  /** The format it read, when it told it from the content. */
  format?: string;
  /** A reason the upload cannot be read, to answer instead of reading its records. */
  error?: AppError;
}

/**
 * Reads an upload's text as it arrives and refuses it as soon as it breaks a limit (records,
 * nesting…) by throwing a 4xx AppError; end() answers what it found.
 */
export interface UploadScanner {
  push(piece: string): void;
  end(): UploadScan;
}

/**
 * A file upload (imports), received whole before any database work starts: the route's byte
 * limit and the scanner's limits are checked while it arrives, so an upload over a limit is
 * refused before a transaction opens, and a slow client never holds a database connection.
 * Only the raw bytes are kept (at most the byte limit); the records are parsed and written
 * later in batches, each chunk let go once read. Never written to disk: uploads hold secrets.
 */
export class Upload {
  private constructor(
    private readonly chunks: Array<Buffer | undefined>,
    readonly scan: UploadScan,
  ) {}

  /** An upload already in memory as text (a JSON string body); scanned like a received one. */
  static fromText(text: string, scanner: UploadScanner): Upload {
    scanner.push(text);
    return new Upload([Buffer.from(text)], scanner.end());
  }

  /** Receives the body, checking the byte limit and the scanner's as it arrives. */
  static receive(
    stream: Readable,
    options: { limit: number; contentLength?: string | undefined; scanner: UploadScanner },
  ): Promise<Upload> {
    const { limit, scanner } = options;
    return new Promise((resolve, reject) => {
      if (Number(options.contentLength) > limit) {
        reject(new PayloadTooLargeError(formatBytes(limit)));
        return;
      }
      const chunks: Buffer[] = [];
      const decoder = new StringDecoder('utf8');
      let bytes = 0;
      // Like Fastify's own body reader: on a refusal, stop listening (the rest of the body is
      // discarded and the connection closed after the answer) rather than destroying the
      // request, which would take the answer's socket with it.
      const stop = () => {
        stream.removeListener('data', onData);
        stream.removeListener('end', onEnd);
        stream.removeListener('error', onError);
      };
      const fail = (err: unknown) => {
        stop();
        reject(err);
      };
      const onData = (chunk: Buffer | string) => {
        const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        bytes += buffer.length;
        if (bytes > limit) return fail(new PayloadTooLargeError(formatBytes(limit)));
        chunks.push(buffer);
        try {
          scanner.push(decoder.write(buffer));
        } catch (err) {
          fail(err);
        }
      };
      const onEnd = () => {
        try {
          scanner.push(decoder.end());
          const scan = scanner.end();
          stop();
          resolve(new Upload(chunks, scan));
        } catch (err) {
          fail(err);
        }
      };
      const onError = (err: Error) => fail(Object.assign(err, { statusCode: 400 }));
      stream.on('data', onData);
      stream.on('end', onEnd);
      stream.on('error', onError);
    });
  }

  /** The records a piecewise reader finds in the text, one at a time; read once. */
  *records<R>(reader: { push(piece: string): R[]; end(): R[] }): Generator<R> {
    for (const piece of this.pieces()) yield* reader.push(piece);
    yield* reader.end();
  }

  /** The text piece by piece (UTF-8 decoded across chunk ends); read once, chunks let go. */
  *pieces(): Generator<string> {
    const decoder = new StringDecoder('utf8');
    for (let i = 0; i < this.chunks.length; i++) {
      const chunk = this.chunks[i];
      this.chunks[i] = undefined;
      if (chunk) yield decoder.write(chunk);
    }
    yield decoder.end();
  }
}

/**
 * The content-type parser of an upload route: receives the body as an Upload under the
 * route's bodyLimit, scanned by the scanner made for the request (its format may depend on
 * the query string and the content type).
 */
export function uploadParser(scanner: (request: FastifyRequest) => UploadScanner) {
  return (request: FastifyRequest, payload: Readable): Promise<Upload> =>
    Upload.receive(payload, {
      limit: request.routeOptions.bodyLimit,
      contentLength: request.headers['content-length'],
      scanner: scanner(request),
    });
}

/**
 * The validator compiler of an upload route: an Upload was checked while it arrived; any
 * other body (a JSON string) is validated against the route's schema as usual.
 */
export const uploadValidatorCompiler: FastifySchemaCompiler<object> = (route) => {
  const validate = validatorCompiler(route);
  if (route.httpPart !== 'body') return validate;
  return (data: unknown) => (data instanceof Upload ? { value: data } : validate(data));
};
