/**
 * Runs `task` for each item, `concurrency` at a time, reporting progress; stops at the first
 * failure and throws it after the tasks in flight have settled. Answers how many succeeded.
 */
export async function runEach<T>(options: {
  items: readonly T[];
  task: (item: T) => Promise<unknown>;
  concurrency?: number;
  onProgress?: (done: number) => void;
}): Promise<number> {
  const { items, task, concurrency = 6, onProgress } = options;
  let next = 0;
  let done = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await task(item);
        done++;
        onProgress?.(done);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (failure !== undefined) throw failure;
  return done;
}

/** Saves a Blob as a file through a temporary link. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** OWASP: a cell starting with = + - @ tab or carriage return is a formula to a spreadsheet. */
const defused = (text: string) => (/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);

/** A CSV cell's text: a list has each element defused, then is joined with `;` and defused whole. */
export type CsvValue = string | readonly string[];

/**
 * CSV of rows, one quoted field per column, formula-looking cells defused with a quote (a list
 * cell element by element too, as the API's CSV export does, so splitting it on `;` brings no
 * formula back).
 */
export function toCsv(header: readonly string[], rows: ReadonlyArray<readonly CsvValue[]>): string {
  const field = (value: CsvValue) => {
    const text = typeof value === 'string' ? value : value.map(defused).join(';');
    return `"${defused(text).replaceAll('"', '""')}"`;
  };
  return [header, ...rows].map((row) => row.map(field).join(',')).join('\r\n');
}
