import type { ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { toPerlJson } from './perl-json.js';

/** The headers pveproxy sends with API answers. */
function apiHeaders(contentType: string, length: number): Record<string, string | number> {
  return {
    'content-type': contentType,
    'content-length': length,
    'cache-control': 'max-age=0',
    pragma: 'no-cache',
    expires: new Date().toUTCString(),
    server: 'pve-api-daemon/3.0',
  };
}

/** HTTP reason phrases must be one line of visible Latin-1 characters. */
export function reasonPhrase(message: string): string {
  const line = message.replace(/\n+$/, '').replace(/[^\t\x20-\x7e\xa0-\xff]/g, ' ');
  return line.slice(0, 512) || 'Error';
}

function write(res: ServerResponse, status: number, reason: string, type: string, body: string) {
  if (res.headersSent || res.destroyed) return;
  const buffer = Buffer.from(body, 'utf8');
  res.writeHead(status, reasonPhrase(reason), apiHeaders(type, buffer.length));
  res.end(buffer);
}

/** `{"data": …}` with 200 OK. */
export function sendData(res: ServerResponse, data: unknown): void {
  write(res, 200, 'OK', 'application/json;charset=UTF-8', toPerlJson({ data }));
}

/** `{"data": null, "message": "…\n"[, "errors": {…}]}`; the message is the reason phrase. */
export function sendPveError(
  res: ServerResponse,
  status: number,
  message: string,
  errors?: Record<string, string>,
): void {
  const body: Record<string, unknown> = { data: null, message: `${message}\n` };
  if (errors) body.errors = errors;
  write(res, status, message, 'application/json;charset=UTF-8', JSON.stringify(body));
}

/** 401 with an empty body; the reason is `No ticket` or `Authentication failed!`. */
export function sendUnauthorized(res: ServerResponse, reason: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(401, reason, apiHeaders('application/json;charset=UTF-8', 0));
  res.end();
}

/** What a reverse proxy in front of Proxmox answers when it fails. */
export function sendHtml(res: ServerResponse, status: number): void {
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  const body =
    `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n` +
    `<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
  write(res, status, STATUS_CODES[status] ?? 'Error', 'text/html', body);
}

/** Plain JSON for the /_sim control API. */
export function sendControl(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  if (body === undefined) {
    res.writeHead(status, { 'content-length': 0 });
    res.end();
    return;
  }
  const buffer = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': buffer.length,
  });
  res.end(buffer);
}
