'use client';

import { MaFilesImport } from '../../../../../features/accounts/mafile-import';

export default function ImportMaFilesPage() {
  return <MaFilesImport />;
}
