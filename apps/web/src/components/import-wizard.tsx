'use client';

import Link from 'next/link';
import { type ReactNode, useEffect, useId, useState } from 'react';
import { ApiError, problemMessage } from '../api/problem';
import { Button, Card, cx, SelectField } from './ui';

/**
 * What every import answers: a dry run or the real thing, with per-row errors (the first ones;
 * errors_total counts them all).
 */
export interface ImportOutcome {
  dry_run: boolean;
  failed: number;
  errors: Array<{ row: number; message: string }>;
  errors_total: number;
  errors_truncated: boolean;
  /** Fields read past instead of imported (accounts in the earlier format), if the import says. */
  ignored_fields?: Array<{ field: string; records: number }>;
  ignored_fields_truncated?: boolean;
}

export interface ImportInput {
  text: string;
  /** The chosen format, or '' to let the server detect it. */
  format: string;
  dryRun: boolean;
}

/**
 * Reads the chosen files into one upload. One file is sent as it is; several JSON files
 * (Steam .maFiles, say) become one JSON array of their records.
 */
export async function readFiles(files: readonly File[]): Promise<string> {
  const texts = await Promise.all(files.map((f) => f.text()));
  if (texts.length === 1) return texts[0] ?? '';
  const records: unknown[] = [];
  for (const [i, text] of texts.entries()) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) records.push(...parsed);
      else records.push(parsed);
    } catch {
      throw new Error(
        `${files[i]?.name ?? 'A file'} is not JSON; several files at once must be JSON (.json, .maFile).`,
      );
    }
  }
  return JSON.stringify(records);
}

type Step = 'input' | 'preview' | 'done';

/**
 * Upload or paste → check (a dry run: the server validates everything and writes nothing) →
 * preview with counts and the error of each bad row → import → result.
 */
export function ImportWizard<R extends ImportOutcome>({
  entity,
  textareaLabel,
  placeholder,
  accept,
  formats,
  options,
  run,
  summary,
  toImport,
  doneHref,
  help,
  detect,
}: {
  /** Plural noun: "accounts". */
  entity: string;
  textareaLabel: string;
  placeholder: string;
  accept: string;
  formats?: ReadonlyArray<{ value: string; label: string }>;
  /** Extra fields of this import (e.g. the value and currency of every card). */
  options?: ReactNode;
  run: (input: ImportInput) => Promise<R>;
  /** The counts of an answer in words: "3 new, 1 update, 1 failed". */
  summary: (result: R) => string;
  /** How many records the import would write. */
  toImport: (result: R) => number;
  doneHref: string;
  help?: ReactNode;
  /** The format the text seems to be in, in words (shown before and after the check). */
  detect?: (text: string) => string | null;
}) {
  const [step, setStep] = useState<Step>('input');
  const [text, setText] = useState('');
  const [fileNames, setFileNames] = useState<string[]>([]);
  const [format, setFormat] = useState('');
  const [busy, setBusy] = useState(false);
  const [elapsed, setElapsed] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<R | null>(null);
  const [dragging, setDragging] = useState(false);
  const fileId = useId();
  const one = entity.replace(/s$/, '');

  useEffect(() => {
    if (!busy) return;
    setElapsed(0);
    const timer = setInterval(() => setElapsed((s) => s + 1), 1000);
    return () => clearInterval(timer);
  }, [busy]);

  const takeFiles = async (files: File[]) => {
    if (files.length === 0) return;
    try {
      setText(await readFiles(files));
      setFileNames(files.map((f) => f.name));
      setError(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : 'The files could not be read.');
    }
  };

  const send = async (dryRun: boolean) => {
    setBusy(true);
    setError(null);
    try {
      const answer = await run({ text, format, dryRun });
      setResult(answer);
      setStep(dryRun ? 'preview' : 'done');
    } catch (err) {
      setError(
        err instanceof ApiError
          ? problemMessage(err.problem, err.message)
          : err instanceof Error
            ? err.message
            : 'The import failed.',
      );
    } finally {
      setBusy(false);
    }
  };

  const count = result ? toImport(result) : 0;
  const detected = detect && format === '' ? detect(text) : null;
  return (
    <div className="space-y-4">
      <ol className="flex gap-2 text-sm" aria-label="Steps">
        {(['input', 'preview', 'done'] as const).map((s, i) => (
          <li
            key={s}
            aria-current={step === s ? 'step' : undefined}
            className={cx(
              'rounded-full px-3 py-1',
              step === s
                ? 'bg-indigo-600 text-white'
                : 'bg-zinc-100 text-zinc-600 dark:bg-zinc-800 dark:text-zinc-300',
            )}
          >
            {i + 1}. {s === 'input' ? 'Upload or paste' : s === 'preview' ? 'Check' : 'Result'}
          </li>
        ))}
      </ol>

      {step === 'input' ? (
        <Card>
          <div className="space-y-4">
            {help ? <div className="text-sm text-zinc-600 dark:text-zinc-300">{help}</div> : null}
            <label
              htmlFor={fileId}
              onDragOver={(event) => {
                event.preventDefault();
                setDragging(true);
              }}
              onDragLeave={() => setDragging(false)}
              onDrop={(event) => {
                event.preventDefault();
                setDragging(false);
                void takeFiles([...event.dataTransfer.files]);
              }}
              className={cx(
                'flex cursor-pointer flex-col items-center justify-center rounded-lg border-2 border-dashed p-6 text-center text-sm',
                dragging
                  ? 'border-indigo-500 bg-indigo-50 dark:bg-indigo-950/40'
                  : 'border-zinc-300 dark:border-zinc-700',
              )}
            >
              <span className="font-medium">Drop files here or choose them</span>
              <span className="mt-1 text-zinc-500">
                {fileNames.length ? fileNames.join(', ') : accept.replaceAll(',', ', ')}
              </span>
              <input
                id={fileId}
                type="file"
                multiple
                accept={accept}
                className="sr-only"
                onChange={(event) => void takeFiles([...(event.target.files ?? [])])}
              />
            </label>
            <div className="space-y-1">
              <label htmlFor={`${fileId}-text`} className="block text-sm font-medium">
                {textareaLabel}
              </label>
              <textarea
                id={`${fileId}-text`}
                value={text}
                onChange={(event) => {
                  setText(event.target.value);
                  setFileNames([]);
                }}
                rows={10}
                placeholder={placeholder}
                spellCheck={false}
                className="block w-full rounded-md border border-zinc-300 bg-white px-3 py-2 font-mono text-xs dark:border-zinc-700 dark:bg-zinc-900"
              />
            </div>
            {detected ? (
              <p className="text-sm text-zinc-600 dark:text-zinc-300" data-testid="import-detected">
                Detected: {detected}
              </p>
            ) : null}
            {formats ? (
              <SelectField
                label="Format"
                value={format}
                onChange={(event) => setFormat(event.target.value)}
                options={formats}
              />
            ) : null}
            {options}
            {error ? (
              <p role="alert" className="text-sm text-red-600 dark:text-red-400">
                {error}
              </p>
            ) : null}
            <div className="flex items-center gap-3">
              <Button disabled={busy || text.trim() === ''} onClick={() => send(true)}>
                {busy ? 'Checking…' : 'Check'}
              </Button>
              <span className="text-xs text-zinc-500">
                Checks every {one} and shows what would happen; nothing is written yet.
              </span>
            </div>
          </div>
        </Card>
      ) : null}

      {step !== 'input' && result ? (
        <Card title={step === 'preview' ? 'What the import would do' : 'Import finished'}>
          <p className="text-sm" data-testid="import-summary">
            {summary(result)}
          </p>
          {result.errors.length > 0 ? (
            <div className="mt-3 max-h-80 overflow-auto">
              <table className="w-full text-left text-sm">
                <caption className="sr-only">Rows with errors</caption>
                <thead className="text-xs text-zinc-500 uppercase">
                  <tr>
                    <th scope="col" className="py-1 pr-3">
                      Row
                    </th>
                    <th scope="col" className="py-1">
                      Problem
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {result.errors.map((e) => (
                    <tr
                      key={`${e.row}-${e.message}`}
                      className="border-t border-zinc-100 dark:border-zinc-800"
                    >
                      <td className="py-1 pr-3 tabular-nums">{e.row}</td>
                      <td className="py-1 text-red-700 dark:text-red-300">{e.message}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {result.errors_truncated ? (
                <p className="mt-2 text-xs text-zinc-500" data-testid="import-errors-truncated">
                  The first {result.errors.length} of {result.errors_total} errors are shown.
                </p>
              ) : null}
            </div>
          ) : null}
          {result.ignored_fields?.length ? (
            <div className="mt-3 text-sm" data-testid="import-ignored">
              <p className="text-amber-800 dark:text-amber-300">
                {step === 'preview'
                  ? 'These fields would not be imported'
                  : 'These fields were not imported'}{' '}
                (AccountDB has no field for them):
              </p>
              <ul className="mt-1 list-disc pl-5">
                {result.ignored_fields.map((f) => (
                  <li key={f.field}>
                    <code className="text-xs break-all">{f.field}</code> in {f.records}{' '}
                    {f.records === 1 ? 'record' : 'records'}
                  </li>
                ))}
              </ul>
              {result.ignored_fields_truncated ? (
                <p className="mt-1 text-xs text-zinc-500">
                  The first {result.ignored_fields.length} are shown.
                </p>
              ) : null}
            </div>
          ) : null}
          {error ? (
            <p role="alert" className="mt-3 text-sm text-red-600 dark:text-red-400">
              {error}
            </p>
          ) : null}
          <div className="mt-4 flex flex-wrap items-center gap-2">
            {step === 'preview' ? (
              <>
                <Button disabled={busy || count === 0} onClick={() => send(false)}>
                  {busy
                    ? `Importing… ${elapsed} s`
                    : `Import ${count} ${count === 1 ? one : entity}`}
                </Button>
                <Button variant="ghost" disabled={busy} onClick={() => setStep('input')}>
                  Back
                </Button>
                {busy ? (
                  <span role="status" className="text-xs text-zinc-500">
                    Writing in one transaction: all good rows or none.
                  </span>
                ) : null}
              </>
            ) : (
              <>
                <Link
                  href={doneHref}
                  className="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500"
                >
                  Show {entity}
                </Link>
                <Button
                  variant="ghost"
                  onClick={() => {
                    setText('');
                    setFileNames([]);
                    setResult(null);
                    setStep('input');
                  }}
                >
                  Import more
                </Button>
              </>
            )}
          </div>
        </Card>
      ) : null}
    </div>
  );
}
