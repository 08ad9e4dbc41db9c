import type { Metadata } from 'next';
import { headers } from 'next/headers';
import type { ReactNode } from 'react';
import './globals.css';
import { Providers } from './providers';

export const metadata: Metadata = {
  title: { default: 'AccountDB', template: '%s · AccountDB' },
  description: 'Inventory of accounts, hardware, cards, VMs and Proxmox nodes',
};

/**
 * Every page is rendered per request: the web server (server/page-security.mjs) gives each one
 * a fresh CSP nonce, which Next.js puts on its scripts and the theme script gets from here.
 */
export default async function RootLayout({ children }: { children: ReactNode }) {
  const nonce = (await headers()).get('x-nonce') ?? undefined;
  return (
    <html lang="en" suppressHydrationWarning>
      <body className="min-h-screen">
        <Providers nonce={nonce}>{children}</Providers>
      </body>
    </html>
  );
}
