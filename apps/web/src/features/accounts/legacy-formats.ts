/**
 * The account import formats the wizard tells apart before sending (the server decides: this
 * only says what it will most likely read), and the earlier AccountDB's CSV template.
 */

/** The formats the import answers with, in words. */
export const IMPORT_FORMAT_LABELS: Record<string, string> = {
  json: 'JSON (AccountDB fields or .maFiles)',
  jsonl: 'JSON lines',
  csv: 'CSV with AccountDB field names',
  'legacy-json': 'earlier AccountDB upload JSON',
  'legacy-table-json': 'earlier AccountDB accounts table (JSON)',
  'legacy-csv': 'earlier AccountDB upload CSV (dotted headers)',
  'legacy-table-csv': 'earlier AccountDB accounts table dump (CSV)',
};

export const formatLabel = (format: string) => IMPORT_FORMAT_LABELS[format] ?? format;

const GROUPS = ['user.', 'email.', 'vault.', 'metadata.', 'steamguard.'];

/** The first line of a CSV text (a header has no quoted line breaks in these formats). */
function headerOf(text: string): string[] {
  const first = text.replace(/^[\s\uFEFF]+/, '').split(/\r?\n/, 1)[0] ?? '';
  return first.split(',').map((h) => h.trim().replace(/^"|"$/g, '').toLowerCase());
}

/**
 * The format an upload is most likely in, from its first characters (JSON) or its header
 * (CSV), or null for an empty text.
 */
export function detectAccountFormat(text: string): string | null {
  const start = text.replace(/^[\s\uFEFF]+/, '');
  if (start === '') return null;
  if (start[0] === '[' || start[0] === '{') {
    const head = start.slice(0, 4096);
    if (/"acc_id"\s*:/.test(head)) return 'legacy-table-json';
    if (/"user"\s*:\s*\{/.test(head)) return 'legacy-json';
    if (start[0] === '{' && /\}\s*\r?\n\s*\{/.test(start.slice(0, 65_536))) return 'jsonl';
    return 'json';
  }
  const names = headerOf(start);
  if (names.some((n) => GROUPS.some((g) => n.startsWith(g)))) return 'legacy-csv';
  if (names.includes('acc_id') || names.includes('acc_username')) return 'legacy-table-csv';
  return 'csv';
}

/**
 * The template the earlier AccountDB's web UI shipped: its ten columns (see Xenogy/SLLAB
 * frontend/nextjs/public/sample_accounts_template.csv) and one example row.
 */
export const LEGACY_TEMPLATE_CSV =
  'id,user.username,user.password,email.address,email.password,vault.address,vault.password,' +
  'metadata.createdAt,metadata.sessionStart,metadata.guard\r\n' +
  '76561198000000000,example_user,example password,user@example.com,mailbox password,' +
  'vault@example.com,vault password,1620000000,1620000000,email\r\n';
