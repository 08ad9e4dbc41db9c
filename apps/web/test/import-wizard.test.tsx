import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ImportOutcome, ImportWizard } from '../src/components/import-wizard';

vi.mock('next/link', () => ({ default: (props: { children: unknown }) => props.children }));

afterEach(cleanup);

function renderWizard(answer: ImportOutcome & { created: number }) {
  render(
    <ImportWizard
      entity="accounts"
      textareaLabel="Paste accounts"
      placeholder=""
      accept=".json"
      doneHref="/accounts"
      run={async () => answer}
      toImport={(r) => r.created}
      summary={(r) => `Would create ${r.created}; ${r.failed} failed.`}
    />,
  );
}

describe('ImportWizard', () => {
  it('says when the answer lists only the first of its errors', async () => {
    const errors = Array.from({ length: 100 }, (_, i) => ({ row: i + 1, message: 'bad' }));
    renderWizard({
      dry_run: true,
      created: 0,
      failed: 250,
      errors,
      errors_total: 250,
      errors_truncated: true,
    });
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Paste accounts'), 'x');
    await user.click(screen.getByRole('button', { name: 'Check' }));
    expect((await screen.findByTestId('import-errors-truncated')).textContent).toBe(
      'The first 100 of 250 errors are shown.',
    );
    expect(screen.getAllByRole('row')).toHaveLength(101);
  });

  it('says nothing more when every error is listed', async () => {
    renderWizard({
      dry_run: true,
      created: 1,
      failed: 1,
      errors: [{ row: 2, message: 'bad' }],
      errors_total: 1,
      errors_truncated: false,
    });
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Paste accounts'), 'x');
    await user.click(screen.getByRole('button', { name: 'Check' }));
    await screen.findByTestId('import-summary');
    expect(screen.queryByTestId('import-errors-truncated')).toBeNull();
  });

  it('lists the fields an import would read past, with their record counts', async () => {
    renderWizard({
      dry_run: true,
      created: 2,
      failed: 0,
      errors: [],
      errors_total: 0,
      errors_truncated: false,
      ignored_fields: [
        { field: 'farm', records: 2 },
        { field: 'metadata.note', records: 1 },
      ],
      ignored_fields_truncated: false,
    });
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Paste accounts'), 'x');
    await user.click(screen.getByRole('button', { name: 'Check' }));
    const box = await screen.findByTestId('import-ignored');
    expect(box.textContent).toContain('These fields would not be imported');
    expect([...box.querySelectorAll('li')].map((li) => li.textContent)).toEqual([
      'farm in 2 records',
      'metadata.note in 1 record',
    ]);
  });

  it('shows no ignored-fields list when there are none', async () => {
    renderWizard({
      dry_run: true,
      created: 1,
      failed: 0,
      errors: [],
      errors_total: 0,
      errors_truncated: false,
      ignored_fields: [],
    });
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Paste accounts'), 'x');
    await user.click(screen.getByRole('button', { name: 'Check' }));
    await screen.findByTestId('import-summary');
    expect(screen.queryByTestId('import-ignored')).toBeNull();
  });
});
