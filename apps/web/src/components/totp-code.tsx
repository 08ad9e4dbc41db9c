'use client';

import { useEffect, useState } from 'react';
import { copyText } from './copy-button';
import { Button } from './ui';

export interface TotpAnswer {
  code: string;
  period: number;
  remaining_s: number;
  kind: 'totp' | 'steam';
}

/** How many codes are fetched in a row before the display pauses (each fetch is audited). */
export const TOTP_LIVE_PERIODS = 10;

/**
 * The current 2FA code, on request ("Show 2FA code": every code read is audited, so merely
 * opening the page reads none), with a ring that empties as the code's time runs out; at the
 * end of the period the next code is fetched. After ten codes in a row it pauses, so a
 * forgotten tab does not keep reading the secret; "Resume" starts again.
 */
export function TotpCode({ load }: { load: () => Promise<TotpAnswer> }) {
  const [answer, setAnswer] = useState<TotpAnswer | null>(null);
  const [left, setLeft] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [fetched, setFetched] = useState(0);
  const [round, setRound] = useState(0);
  const [started, setStarted] = useState(false);
  const paused = fetched >= TOTP_LIVE_PERIODS;

  // biome-ignore lint/correctness/useExhaustiveDependencies: refetch once per round
  useEffect(() => {
    if (!started || paused) return;
    let cancelled = false;
    load().then(
      (next) => {
        if (cancelled) return;
        setAnswer(next);
        setLeft(next.remaining_s);
        setError(null);
        setFetched((n) => n + 1);
      },
      (err: unknown) => {
        if (!cancelled)
          setError(err instanceof Error ? err.message : 'The code could not be read.');
      },
    );
    return () => {
      cancelled = true;
    };
  }, [round, started]);

  useEffect(() => {
    if (!answer || paused) return;
    const timer = setInterval(() => {
      setLeft((s) => {
        if (s <= 1) {
          setRound((r) => r + 1);
          return 0;
        }
        return s - 1;
      });
    }, 1000);
    return () => clearInterval(timer);
  }, [answer, paused]);

  if (error) {
    return (
      <p role="alert" className="text-sm text-red-600 dark:text-red-400">
        {error}
      </p>
    );
  }
  if (!started) {
    return (
      <div className="flex flex-wrap items-center gap-3">
        <Button variant="secondary" onClick={() => setStarted(true)}>
          Show 2FA code
        </Button>
        <span className="text-xs text-zinc-500">Each code shown is recorded in the audit log.</span>
      </div>
    );
  }
  if (!answer) return <p className="text-sm text-zinc-500">Reading the code…</p>;

  const radius = 18;
  const circumference = 2 * Math.PI * radius;
  const fraction = paused ? 0 : Math.max(0, Math.min(1, left / answer.period));
  return (
    <div className="flex flex-wrap items-center gap-4">
      <svg
        width="48"
        height="48"
        viewBox="0 0 48 48"
        role="img"
        aria-label={paused ? 'Paused' : `${left} seconds left`}
        data-testid="totp-ring"
        data-remaining={paused ? 0 : left}
      >
        <circle
          cx="24"
          cy="24"
          r={radius}
          fill="none"
          strokeWidth="4"
          className="stroke-zinc-200 dark:stroke-zinc-800"
        />
        <circle
          cx="24"
          cy="24"
          r={radius}
          fill="none"
          strokeWidth="4"
          strokeLinecap="round"
          strokeDasharray={circumference}
          strokeDashoffset={circumference * (1 - fraction)}
          transform="rotate(-90 24 24)"
          className={left <= 5 ? 'stroke-red-500' : 'stroke-indigo-500'}
          style={{ transition: 'stroke-dashoffset 1s linear' }}
        />
        <text x="24" y="28" textAnchor="middle" className="fill-current text-xs tabular-nums">
          {paused ? '–' : left}
        </text>
      </svg>
      <code
        data-testid="totp-code"
        className={`font-mono text-3xl tracking-widest ${paused ? 'text-zinc-400 line-through' : ''}`}
        aria-live="polite"
      >
        {answer.code}
      </code>
      <span className="text-xs text-zinc-500">
        {answer.kind === 'steam' ? 'Steam Guard' : 'TOTP'}
      </span>
      {paused ? (
        <Button
          variant="secondary"
          onClick={() => {
            setFetched(0);
            setRound((r) => r + 1);
          }}
        >
          Resume 2FA code
        </Button>
      ) : (
        <Button variant="secondary" onClick={() => copyText(answer.code, { what: '2FA code' })}>
          Copy 2FA code
        </Button>
      )}
    </div>
  );
}
