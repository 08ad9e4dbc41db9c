'use client';

import { useTheme } from 'next-themes';
import { useEffect, useState } from 'react';
import { Button } from './ui';

const NEXT: Record<string, string> = { system: 'light', light: 'dark', dark: 'system' };
const LABEL: Record<string, string> = { system: 'System theme', light: 'Light', dark: 'Dark' };
const ICON: Record<string, string> = { system: '◐', light: '☀', dark: '☾' };

/** Cycles system → light → dark; the choice is kept in localStorage by next-themes. */
export function ThemeToggle() {
  const { theme = 'system', setTheme } = useTheme();
  const [mounted, setMounted] = useState(false);
  useEffect(() => setMounted(true), []);
  const current = mounted ? theme : 'system';
  const next = NEXT[current] ?? 'system';
  return (
    <Button
      variant="ghost"
      onClick={() => setTheme(next)}
      aria-label={`Theme: ${LABEL[current] ?? current}. Switch to ${LABEL[next]}`}
      title={`Theme: ${LABEL[current] ?? current}`}
    >
      <span aria-hidden="true">{ICON[current] ?? ICON.system}</span>
    </Button>
  );
}
