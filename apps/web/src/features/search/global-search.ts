'use client';

import { useQuery } from '@tanstack/react-query';
import type { ApiClient } from '../../api/client';
import { api as appApi, unwrap } from '../../lib/api';
import { scopeQuery } from '../scope/admin-scope';

/** One record found by the command palette. */
export interface SearchHit {
  kind: 'account' | 'hardware' | 'vm' | 'node' | 'card';
  id: string;
  title: string;
  detail: string;
  href: string;
}

const PER_KIND = 5;

/**
 * Finds records of every kind at once: accounts by username, e-mail, external id or service;
 * hardware by name, MAC, SMBIOS UUID or serials; VMs by name, VMID, MAC or SMBIOS UUID; nodes
 * by name or host; cards by their exact code (POST /cards/lookup: the code travels in the
 * body, the server matches its blind index) or code hint. Kinds that fail are left out rather
 * than failing the whole search.
 */
export async function searchEverything(
  api: ApiClient,
  term: string,
  /** An admin's "All users" scope ({scope: 'all'}): every user's objects; else one's own. */
  scope: { scope?: 'all' } = {},
): Promise<SearchHit[]> {
  const q = term.trim();
  if (q.length < 2) return [];
  const isVmid = /^\d{1,9}$/.test(q) && Number(q) >= 100;
  const isMac = /^([0-9A-Fa-f]{2}[:-]?){5}[0-9A-Fa-f]{2}$/.test(q);
  const isUuid = /^\{?[0-9A-Fa-f]{8}-?([0-9A-Fa-f]{4}-?){3}[0-9A-Fa-f]{12}\}?$/.test(q);
  /** VMs found by an exact identifier: VMID, MAC or SMBIOS UUID. */
  const exactVmQuery = isVmid
    ? { vmid: Number(q) }
    : isMac
      ? { mac_address: q }
      : isUuid
        ? { smbios_uuid: q }
        : null;
  const settle = async (run: () => Promise<SearchHit[]>) => run().catch(() => []);
  const groups = await Promise.all([
    settle(async () => {
      const page = unwrap(
        await api.GET('/api/v1/accounts', { params: { query: { q, limit: PER_KIND, ...scope } } }),
      );
      return page.items.map((a) => ({
        kind: 'account' as const,
        id: a.id,
        title: a.username,
        detail: [a.service, a.email, a.external_id].filter(Boolean).join(' · '),
        href: `/accounts/${a.id}`,
      }));
    }),
    settle(async () => {
      const page = unwrap(
        await api.GET('/api/v1/hardware', { params: { query: { q, limit: PER_KIND, ...scope } } }),
      );
      return page.items.map((h) => ({
        kind: 'hardware' as const,
        id: h.id,
        title: h.pcname ?? h.mac_address ?? h.id,
        detail: [h.mac_address, h.smbios_uuid].filter(Boolean).join(' · '),
        href: `/hardware/${h.id}`,
      }));
    }),
    settle(async () => {
      const [byText, byVmid] = await Promise.all([
        api
          .GET('/api/v1/vms', { params: { query: { q, limit: PER_KIND, ...scope } } })
          .then(unwrap),
        exactVmQuery
          ? api
              .GET('/api/v1/vms', {
                params: { query: { ...exactVmQuery, limit: PER_KIND, ...scope } },
              })
              .then(unwrap)
          : Promise.resolve({ items: [] }),
      ]);
      const seen = new Set<string>();
      return [...byVmid.items, ...byText.items]
        .filter((v) => !seen.has(v.id) && seen.add(v.id))
        .slice(0, PER_KIND)
        .map((v) => ({
          kind: 'vm' as const,
          id: v.id,
          title: v.name ?? `VM ${v.vmid}`,
          detail: [`VMID ${v.vmid}`, v.status, ...(v.ip_addresses ?? [])].join(' · '),
          href: `/vms/${v.id}`,
        }));
    }),
    settle(async () => {
      const page = unwrap(
        await api.GET('/api/v1/proxmox-nodes', {
          params: { query: { q, limit: PER_KIND, ...scope } },
        }),
      );
      return page.items.map((n) => ({
        kind: 'node' as const,
        id: n.id,
        title: n.name,
        detail: [n.hostname, n.status].filter(Boolean).join(' · '),
        href: `/nodes/${n.id}`,
      }));
    }),
    settle(async () => {
      const [byCode, byHint] = await Promise.all([
        // The code goes in a body, never in a URL (access logs, proxies, browser history).
        api
          .POST('/api/v1/cards/lookup', { body: { code: q, limit: PER_KIND, ...scope } })
          .then(unwrap),
        api
          .GET('/api/v1/cards', { params: { query: { q, limit: PER_KIND, ...scope } } })
          .then(unwrap),
      ]);
      const seen = new Set<string>();
      return [...byCode.items, ...byHint.items]
        .filter((c) => !seen.has(c.id) && seen.add(c.id))
        .slice(0, PER_KIND)
        .map((c) => ({
          kind: 'card' as const,
          id: c.id,
          title: `Card ${c.code_hint}`,
          detail: [
            c.status,
            c.value !== null && c.value !== undefined ? `${c.value} ${c.currency ?? ''}` : null,
          ]
            .filter(Boolean)
            .join(' · '),
          href: `/cards/${c.id}`,
        }));
    }),
  ]);
  return groups.flat();
}

export function useGlobalSearch(term: string, all = false) {
  return useQuery({
    queryKey: ['search', term.trim(), all],
    queryFn: () => searchEverything(appApi, term, scopeQuery(all)),
    enabled: term.trim().length >= 2,
    staleTime: 10_000,
    placeholderData: (previous) => previous,
  });
}
