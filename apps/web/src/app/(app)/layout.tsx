import { type ReactNode, Suspense } from 'react';
import { AppShell } from '../../components/app-shell';

/**
 * The shell reads the URL's query (an admin's `scope=all`), which a statically rendered page
 * only knows in the browser: the boundary lets the build render the loading state instead.
 */
export default function AppLayout({ children }: { children: ReactNode }) {
  return (
    <Suspense
      fallback={
        <main className="flex min-h-screen items-center justify-center" aria-busy="true">
          <p className="text-sm text-zinc-500">Loading…</p>
        </main>
      }
    >
      <AppShell>{children}</AppShell>
    </Suspense>
  );
}
