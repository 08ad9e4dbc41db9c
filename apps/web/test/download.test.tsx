import { describe, expect, it } from 'vitest';
import { failedExport, saveExport } from '../src/lib/download';

/** Exports the server could not finish end with an error (see the API's export-stream.ts). */
const answer = (body: string) => ({
  data: new Blob([body]),
  response: new Response(null, { status: 200 }),
});

describe('an export that failed after it started', () => {
  it('is told from a whole one by its end, JSON or CSV', async () => {
    const json =
      '[\n{"id":"a","tags":[]}\n{"accountdb_export_error":{"code":"export_failed","detail":"It stopped; quote r-1.","rows":1,"request_id":"r-1"}}\n';
    expect(await failedExport(new Blob([json]))).toBe('It stopped; quote r-1.');
    const csv = '\uFEFFid,name\r\na,b\r\n"EXPORT FAILED: It stopped; ""really"".",,,\r\n';
    expect(await failedExport(new Blob([csv]))).toBe('It stopped; "really".');
    expect(await failedExport(new Blob(['\uFEFFid\r\nEXPORT FAILED: plain,\r\n']))).toBe('plain');
    expect(await failedExport(new Blob(['[\n{"id":"a"}\n]\n']))).toBeNull();
    expect(await failedExport(new Blob(['[]\n']))).toBeNull();
    expect(
      await failedExport(new Blob(['\uFEFFid,note\r\na,"EXPORT FAILED: a note"\r\n'])),
    ).toBeNull();
  });

  it('is not saved: the error says why', async () => {
    await expect(
      saveExport(
        answer(
          '[\n{"accountdb_export_error":{"code":"export_failed","detail":"It stopped.","rows":0,"request_id":"r"}}\n',
        ),
        'x.json',
      ),
    ).rejects.toThrow('The export failed and was not saved: It stopped.');
  });
});
