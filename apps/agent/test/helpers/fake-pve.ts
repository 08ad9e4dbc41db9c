import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A scriptable stand-in for the Proxmox API (node:http, plain HTTP) for cycle unit tests:
 * a scenario of nodes and guests, per-path failures, latency, and counters of what was
 * asked (including the peak number of concurrent guest-agent calls).
 */

export interface FakeGuest {
  vmid: number;
  type: 'qemu' | 'lxc';
  node: string;
  name?: string;
  status: 'running' | 'stopped' | 'paused' | 'unknown';
  template?: boolean;
  tags?: string;
  lock?: string;
  maxmem?: number;
  maxcpu?: number;
  agent?: string;
  digest: string;
  config: Record<string, unknown>;
  interfaces?: unknown;
}

export type Failure =
  | { status: number; body?: string; contentType?: string }
  | { hang: true }
  | { destroy: true };

export class FakePve {
  readonly guests = new Map<number, FakeGuest>();
  nodes: { name: string; online: boolean; local?: boolean }[] = [
    { name: 'pve1', online: true, local: true },
  ];
  cluster: { name: string; quorate: boolean } | undefined = { name: 'lab', quorate: true };
  version = '8.4.1';
  token = 'PVEAPIToken=accountdb@pve!sync=secret-uuid';
  /** Path (without query) regex → failure, checked in order. */
  failures: { match: RegExp; failure: Failure }[] = [];
  agentLatencyMs = 0;
  requests: string[] = [];
  private agentInFlight = 0;
  agentPeak = 0;
  private server: Server | undefined;
  url = '';

  count(match: RegExp | string): number {
    return this.requests.filter((p) => (typeof match === 'string' ? p === match : match.test(p)))
      .length;
  }

  reset(): void {
    this.requests = [];
    this.agentPeak = 0;
  }

  addGuest(g: Partial<FakeGuest> & { vmid: number }): FakeGuest {
    const type = g.type ?? 'qemu';
    const guest: FakeGuest = {
      type,
      node: 'pve1',
      name: `vm-${g.vmid}`,
      status: 'running',
      digest: `d${g.vmid}-1`,
      config:
        type === 'qemu'
          ? {
              name: g.name ?? `vm-${g.vmid}`,
              memory: '2048',
              cores: 2,
              sockets: 1,
              net0: `virtio=bc:24:11:00:${(g.vmid >> 8).toString(16).padStart(2, '0')}:${(g.vmid & 255).toString(16).padStart(2, '0')},bridge=vmbr0`,
              scsi0: 'local-lvm:vm-disk-0,size=32G',
              ide2: 'local:iso/debian.iso,media=cdrom',
              smbios1: `uuid=00000000-0000-4000-8000-${String(g.vmid).padStart(12, '0')}`,
              agent: '1',
            }
          : {
              hostname: g.name ?? `ct-${g.vmid}`,
              memory: 512,
              cores: 1,
              rootfs: 'local-lvm:ct-disk,size=8G',
              net0: 'name=eth0,bridge=vmbr0,hwaddr=BC:24:11:AA:00:01,ip=10.9.0.5/24,type=veth',
            },
      interfaces:
        type === 'qemu'
          ? {
              result: [
                {
                  name: 'lo',
                  'hardware-address': '00:00:00:00:00:00',
                  'ip-addresses': [
                    { 'ip-address': '127.0.0.1', 'ip-address-type': 'ipv4', prefix: 8 },
                  ],
                },
                {
                  name: 'eth0',
                  'hardware-address': 'bc:24:11:00:00:01',
                  'ip-addresses': [
                    {
                      'ip-address': `10.0.${g.vmid >> 8}.${g.vmid & 255}`,
                      'ip-address-type': 'ipv4',
                      prefix: 24,
                    },
                  ],
                },
              ],
            }
          : [{ name: 'eth0', hwaddr: 'bc:24:11:aa:00:01', inet: '10.9.0.5/24' }],
      ...g,
    };
    this.guests.set(g.vmid, guest);
    return guest;
  }

  /** Changes a guest's config (new digest), like an edit in the Proxmox UI. */
  editConfig(vmid: number, patch: Record<string, unknown>): void {
    const g = this.guests.get(vmid);
    if (!g) throw new Error(`no guest ${vmid}`);
    Object.assign(g.config, patch);
    const n = Number(g.digest.split('-').pop()) + 1;
    g.digest = `d${vmid}-${n}`;
  }

  fail(match: RegExp, failure: Failure): void {
    this.failures.push({ match, failure });
  }

  clearFailures(): void {
    this.failures = [];
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private send(res: ServerResponse, status: number, data: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8' });
    res.end(JSON.stringify(status >= 400 ? { data: null, message: String(data) } : { data }));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const full = (req.url ?? '').replace(/^\/api2\/json/, '');
    const path = full.split('?')[0] as string;
    this.requests.push(path);
    if (req.headers.authorization !== this.token) {
      res.writeHead(401, 'authentication failure').end();
      return;
    }
    for (const { match, failure } of this.failures) {
      if (!match.test(path)) continue;
      if ('hang' in failure) return; // never answers
      if ('destroy' in failure) {
        req.socket.destroy();
        return;
      }
      res.writeHead(failure.status, { 'content-type': failure.contentType ?? 'application/json' });
      res.end(failure.body ?? JSON.stringify({ data: null, message: `HTTP ${failure.status}\n` }));
      return;
    }
    let m: RegExpExecArray | null;
    if (path === '/version')
      return this.send(res, 200, {
        version: this.version,
        release: this.version.split('.').slice(0, 2).join('.'),
      });
    if (path === '/cluster/status') {
      const entries: unknown[] = [];
      if (this.cluster)
        entries.push({
          type: 'cluster',
          name: this.cluster.name,
          quorate: this.cluster.quorate ? 1 : 0,
          nodes: this.nodes.length,
        });
      this.nodes.forEach((n, i) => {
        entries.push({
          type: 'node',
          name: n.name,
          nodeid: i + 1,
          online: n.online ? 1 : 0,
          local: n.local ? 1 : 0,
          ip: `10.0.0.${i + 1}`,
        });
      });
      return this.send(res, 200, entries);
    }
    if (path === '/cluster/resources') {
      return this.send(
        res,
        200,
        [...this.guests.values()].map((g) => ({
          id: `${g.type}/${g.vmid}`,
          vmid: g.vmid,
          node: g.node,
          type: g.type,
          status: g.status,
          name: g.name,
          template: g.template ? 1 : 0,
          maxmem: g.maxmem ?? 2048 * 1024 * 1024,
          maxcpu: g.maxcpu ?? 2,
          maxdisk: 34359738368,
          mem: 1024 * 1024 * 1024,
          cpu: 0.05,
          uptime: g.status === 'running' ? 1234 : 0,
          ...(g.tags ? { tags: g.tags } : {}),
          ...(g.lock ? { lock: g.lock } : {}),
        })),
      );
    }
    m = /^\/nodes\/([^/]+)\/(qemu|lxc)\/(\d+)\/config$/.exec(path);
    if (m) {
      const g = this.guests.get(Number(m[3]));
      if (!g || g.node !== m[1] || g.type !== m[2])
        return this.send(
          res,
          500,
          `Configuration file 'nodes/${m[1]}/${m[2]}/${m[3]}.conf' does not exist`,
        );
      return this.send(res, 200, { ...g.config, digest: g.digest });
    }
    m = /^\/nodes\/([^/]+)\/qemu\/(\d+)\/agent\/network-get-interfaces$/.exec(path);
    if (m) {
      const g = this.guests.get(Number(m[2]));
      this.agentInFlight++;
      this.agentPeak = Math.max(this.agentPeak, this.agentInFlight);
      try {
        if (this.agentLatencyMs) await new Promise((r) => setTimeout(r, this.agentLatencyMs));
      } finally {
        this.agentInFlight--;
      }
      if (!g) return this.send(res, 500, 'no such VM');
      if (g.status !== 'running') return this.send(res, 500, `VM ${g.vmid} is not running`);
      if (!g.interfaces) return this.send(res, 500, 'QEMU guest agent is not running');
      return this.send(res, 200, g.interfaces);
    }
    m = /^\/nodes\/([^/]+)\/lxc\/(\d+)\/interfaces$/.exec(path);
    if (m) {
      const g = this.guests.get(Number(m[2]));
      if (!g) return this.send(res, 500, 'no such container');
      return this.send(res, 200, g.status === 'running' ? (g.interfaces ?? []) : null);
    }
    if (path === '/access/permissions')
      return this.send(res, 200, { '/': { 'Sys.Audit': 1, 'VM.Audit': 1 } });
    return this.send(res, 501, `Method 'GET ${path}' not implemented`);
  }
}
