'use client';

import { useId, useState } from 'react';
import { cx } from './ui';

/** Tags as chips: Enter or comma adds, Backspace on an empty box removes the last, × removes one. */
export function TagInput({
  label,
  value,
  onChange,
  error,
}: {
  label: string;
  value: string[];
  onChange: (tags: string[]) => void;
  error?: string | undefined;
}) {
  const id = useId();
  const [text, setText] = useState('');
  const add = (raw: string) => {
    const tags = raw
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t && !value.includes(t));
    if (tags.length) onChange([...value, ...tags]);
    setText('');
  };
  return (
    <div className="space-y-1">
      <label htmlFor={id} className="block text-sm font-medium">
        {label}
      </label>
      <div
        className={cx(
          'flex flex-wrap items-center gap-1 rounded-md border bg-white px-2 py-1.5 dark:bg-zinc-900',
          error ? 'border-red-500' : 'border-zinc-300 dark:border-zinc-700',
        )}
      >
        {value.map((tag) => (
          <span
            key={tag}
            className="inline-flex items-center gap-1 rounded bg-zinc-100 px-1.5 py-0.5 text-xs dark:bg-zinc-800"
          >
            {tag}
            <button
              type="button"
              aria-label={`Remove tag ${tag}`}
              onClick={() => onChange(value.filter((t) => t !== tag))}
              className="text-zinc-500 hover:text-zinc-900 dark:hover:text-white"
            >
              ×
            </button>
          </span>
        ))}
        <input
          id={id}
          value={text}
          onChange={(event) => {
            if (event.target.value.includes(',')) add(event.target.value);
            else setText(event.target.value);
          }}
          onKeyDown={(event) => {
            if (event.key === 'Enter') {
              event.preventDefault();
              add(text);
            } else if (event.key === 'Backspace' && text === '' && value.length > 0) {
              onChange(value.slice(0, -1));
            }
          }}
          onBlur={() => text && add(text)}
          placeholder={value.length ? '' : 'Type and press Enter'}
          className="min-w-24 flex-1 bg-transparent py-0.5 text-sm outline-none"
          aria-invalid={error ? true : undefined}
        />
      </div>
      {error ? (
        <p role="alert" className="text-sm text-red-600 dark:text-red-400">
          {error}
        </p>
      ) : null}
    </div>
  );
}
