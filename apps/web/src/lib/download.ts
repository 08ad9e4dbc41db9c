import { saveBlob } from '../components/list/run-each';

/** Saves an export answer (openapi-fetch with parseAs: 'blob') under its server-given name. */
export function saveExport(
  result: { data?: unknown; error?: unknown; response: Response },
  fallbackName: string,
): void {
  if (!result.response.ok || !(result.data instanceof Blob)) {
    throw new Error(`The export failed (${result.response.status}).`);
  }
  const disposition = result.response.headers.get('content-disposition') ?? '';
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallbackName;
  saveBlob(result.data, name);
}
