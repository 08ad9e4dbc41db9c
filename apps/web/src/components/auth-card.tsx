import type { ReactNode } from 'react';

/** The frame of the pages shown before login: setup, login, registration. */
export function AuthCard({
  title,
  subtitle,
  children,
  footer,
}: {
  title: string;
  subtitle?: ReactNode;
  children: ReactNode;
  footer?: ReactNode;
}) {
  return (
    <main className="flex min-h-screen items-center justify-center px-4 py-12">
      <div className="w-full max-w-sm space-y-6">
        <div className="text-center">
          <p className="text-sm font-semibold tracking-wide text-indigo-600 dark:text-indigo-400">
            AccountDB
          </p>
          <h1 className="mt-2 text-2xl font-bold">{title}</h1>
          {subtitle ? (
            <p className="mt-2 text-sm text-zinc-600 dark:text-zinc-400">{subtitle}</p>
          ) : null}
        </div>
        <div className="rounded-lg border border-zinc-200 bg-white p-6 shadow-sm dark:border-zinc-800 dark:bg-zinc-900">
          {children}
        </div>
        {footer ? (
          <div className="text-center text-sm text-zinc-600 dark:text-zinc-400">{footer}</div>
        ) : null}
      </div>
    </main>
  );
}
