import { saveBlob } from '../components/list/run-each';

/** How much of an export's end is read to tell a failed one (see failedExport). */
const END_READ = 16 * 1024;

/**
 * The detail an export ended with when it failed after the server had started it, or null.
 * The API ends such a file with a last line `{"accountdb_export_error": {…, detail, …}}`
 * (JSON) or a last record `EXPORT FAILED: <detail>` (CSV), so that it never passes for whole.
 */
export async function failedExport(data: Blob): Promise<string | null> {
  const end = (await data.slice(-END_READ).text()).trimEnd();
  const last = end.slice(end.lastIndexOf('\n') + 1);
  if (last.startsWith('{"accountdb_export_error":')) {
    try {
      return (JSON.parse(last) as { accountdb_export_error: { detail: string } })
        .accountdb_export_error.detail;
    } catch {
      return last;
    }
  }
  const quoted = /^"EXPORT FAILED: ((?:[^"]|"")*)"/.exec(last);
  if (quoted) return (quoted[1] ?? '').replaceAll('""', '"');
  return /^EXPORT FAILED: ([^,]*)/.exec(last)?.[1] ?? null;
}

/**
 * Saves an export answer (openapi-fetch with parseAs: 'blob') under its server-given name;
 * an export the server could not finish is refused with its error instead of saved.
 */
export async function saveExport(
  result: { data?: unknown; error?: unknown; response: Response },
  fallbackName: string,
): Promise<void> {
  if (!result.response.ok || !(result.data instanceof Blob)) {
    throw new Error(`The export failed (${result.response.status}).`);
  }
  const failure = await failedExport(result.data);
  if (failure !== null) throw new Error(`The export failed and was not saved: ${failure}`);
  const disposition = result.response.headers.get('content-disposition') ?? '';
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallbackName;
  saveBlob(result.data, name);
}
