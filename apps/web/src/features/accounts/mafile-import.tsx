'use client';

import { useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useId, useState } from 'react';
import { ApiError, isProblem, problemMessage } from '../../api/problem';
import type { paths } from '../../api/schema';
import { Button, Card, Field, PageHeader } from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import { accountKeys } from './queries';

type MaFilesResult =
  paths['/api/v1/accounts/import/mafiles']['post']['responses'][200]['content']['application/json'];

interface ChosenFile {
  name: string;
  content: string;
}

/** Browsers give a folder's every file: only the manifest and Steam Guard files are sent. */
const wanted = (name: string) => /(^|\/)manifest\.json$|\.mafile$|\.json$/i.test(name);
const isManifest = (name: string) => /(^|\/)manifest\.json$/i.test(name);
/** SDA writes an encrypted file as base64, a clear one as JSON. */
const encrypted = (content: string) =>
  !content
    .replace(/^\uFEFF/, '')
    .trimStart()
    .startsWith('{');

export async function readChosen(files: readonly File[]): Promise<ChosenFile[]> {
  const kept = files
    .map((f) => ({ file: f, name: f.webkitRelativePath || f.name }))
    .filter((f) => wanted(f.name));
  return Promise.all(kept.map(async (f) => ({ name: f.name, content: await f.file.text() })));
}

/**
 * A Steam Guard folder (SDA's or steamguard-cli's maFiles/, or some of its files with
 * manifest.json): choose it, give the passkey when files are encrypted, check, import. The
 * server decrypts; the passkey goes in the request body and is not kept after the import.
 */
export function MaFilesImport() {
  const queryClient = useQueryClient();
  const id = useId();
  const [files, setFiles] = useState<ChosenFile[]>([]);
  const [passkey, setPasskey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fileErrors, setFileErrors] = useState<Array<{ file: string; message: string }>>([]);
  const [result, setResult] = useState<MaFilesResult | null>(null);

  const maFiles = files.filter((f) => !isManifest(f.name));
  const hasManifest = files.some((f) => isManifest(f.name));
  const locked = maFiles.filter((f) => encrypted(f.content)).length;

  const choose = async (list: FileList | null) => {
    setResult(null);
    setFileErrors([]);
    setError(null);
    const chosen = await readChosen([...(list ?? [])]);
    setFiles(chosen);
    if (chosen.length === 0) setError('No .maFile or manifest.json among the chosen files.');
  };

  const send = async (dryRun: boolean) => {
    setBusy(true);
    setError(null);
    setFileErrors([]);
    try {
      const answer = unwrap(
        await api.POST('/api/v1/accounts/import/mafiles', {
          params: { query: { dry_run: dryRun } },
          body: { files, ...(passkey ? { passkey } : {}) },
        }),
      );
      setResult(answer);
      setFileErrors(answer.errors.map((e) => ({ file: e.file, message: e.message })));
      if (!dryRun) {
        setPasskey('');
        await queryClient.invalidateQueries({ queryKey: accountKeys.all });
      }
    } catch (err) {
      const problem = err instanceof ApiError ? err.problem : undefined;
      setError(err instanceof Error ? problemMessage(problem, err.message) : 'The import failed.');
      if (isProblem(problem)) {
        setFileErrors(
          (problem.errors ?? []).map((e) => {
            const [file, ...rest] = e.message.split(': ');
            return { file: file ?? '', message: rest.join(': ') };
          }),
        );
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader
        title="Import a Steam Guard folder"
        description="SDA or steamguard-cli maFiles (encrypted too), Steam mobile backups."
      />
      <Card>
        <div className="space-y-4 text-sm">
          <p className="text-zinc-600 dark:text-zinc-300">
            Choose the whole <code>maFiles</code> folder, or some of its files together with its{' '}
            <code>manifest.json</code>. Each file becomes an account: its SteamID is the external id
            (importing again updates it), account_name the username, and everything else is stored
            encrypted. Nothing is written unless every file can be imported. At most 500 files at
            once: a larger folder goes through <code>npx accountdb import accounts</code>.
          </p>
          <div className="flex flex-wrap gap-4">
            <label htmlFor={`${id}-folder`} className="cursor-pointer font-medium text-indigo-600">
              Choose a folder
              <input
                id={`${id}-folder`}
                type="file"
                className="sr-only"
                // Folder choice: not in React's input types, but in every current browser.
                {...{ webkitdirectory: '', directory: '' }}
                multiple
                onChange={(event) => void choose(event.target.files)}
              />
            </label>
            <label htmlFor={`${id}-files`} className="cursor-pointer font-medium text-indigo-600">
              Choose files
              <input
                id={`${id}-files`}
                type="file"
                className="sr-only"
                accept=".maFile,.json"
                multiple
                onChange={(event) => void choose(event.target.files)}
              />
            </label>
          </div>
          {files.length > 0 ? (
            <p data-testid="mafiles-chosen">
              {maFiles.length} Steam Guard {maFiles.length === 1 ? 'file' : 'files'}
              {locked ? `, ${locked} encrypted` : ''}; manifest.json{' '}
              {hasManifest ? 'included' : 'not included'}.
            </p>
          ) : null}
          {locked > 0 ? (
            <Field
              label="SDA passkey"
              type="password"
              autoComplete="off"
              value={passkey}
              onChange={(event) => setPasskey(event.target.value)}
              hint="Decrypts the files on the server; it is not stored."
            />
          ) : null}
          {error ? (
            <p role="alert" className="text-red-600 dark:text-red-400">
              {error}
            </p>
          ) : null}
          {fileErrors.length > 0 ? (
            <table className="w-full text-left">
              <caption className="sr-only">Files with errors</caption>
              <thead className="text-xs text-zinc-500 uppercase">
                <tr>
                  <th scope="col" className="py-1 pr-3">
                    File
                  </th>
                  <th scope="col" className="py-1">
                    Problem
                  </th>
                </tr>
              </thead>
              <tbody>
                {fileErrors.map((e) => (
                  <tr
                    key={`${e.file}-${e.message}`}
                    className="border-t border-zinc-100 dark:border-zinc-800"
                  >
                    <td className="py-1 pr-3">{e.file}</td>
                    <td className="py-1 text-red-700 dark:text-red-300">{e.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          {result ? (
            <p data-testid="mafiles-summary">
              {result.dry_run ? 'Would create' : 'Created'} {result.created},{' '}
              {result.dry_run ? 'update' : 'updated'} {result.updated}
              {result.decrypted ? ` (${result.decrypted} decrypted)` : ''}; {result.failed} failed.
            </p>
          ) : null}
          <div className="flex flex-wrap items-center gap-3">
            <Button disabled={busy || maFiles.length === 0} onClick={() => send(true)}>
              {busy ? 'Working…' : 'Check'}
            </Button>
            {result?.dry_run && result.failed === 0 ? (
              <Button disabled={busy} onClick={() => send(false)}>
                Import {result.created + result.updated}{' '}
                {result.created + result.updated === 1 ? 'account' : 'accounts'}
              </Button>
            ) : null}
            {result && !result.dry_run ? (
              <Link href="/accounts" className="font-medium text-indigo-600">
                Show accounts
              </Link>
            ) : null}
          </div>
        </div>
      </Card>
    </>
  );
}
