import { describe, expect, it } from 'vitest';
import { PveError } from '../src/pve/errors.js';
import { majorVersion, parseClusterStatus, parseVersion } from '../src/pve/parse-cluster.js';
import {
  agentEnabled,
  driveSize,
  indexedKeys,
  parseLxcConfig,
  parseQemuConfig,
  smbiosUuid,
  staticAddress,
} from '../src/pve/parse-config.js';
import { parseAgentInterfaces, parseLxcInterfaces } from '../src/pve/parse-interfaces.js';
import { parseClusterResources, parseResourceEntry } from '../src/pve/parse-resources.js';
import {
  clampText,
  normaliseMac,
  parseMemoryMb,
  parsePropertyString,
  parseSize,
  parseTags,
  toBool,
  toCount,
  toNumber,
} from '../src/pve/parse-values.js';
import { buildSyncVm, newCachedGuest } from '../src/sync/build.js';

// Every drift listed in PROXMOX.md ("Endpoints and fields", "Edge cases seen in real clusters",
// "What existing tools got wrong") has a case here.

describe('numbers, booleans and sizes drift', () => {
  it('reads numbers given as numbers, numeric strings and scientific notation', () => {
    expect(toNumber(42)).toBe(42);
    expect(toNumber('42')).toBe(42);
    expect(toNumber(' 0.25 ')).toBe(0.25);
    expect(toNumber('3.4e+15')).toBe(3.4e15);
    expect(toNumber(3.4e15)).toBe(3.4e15);
    expect(toNumber('12abc')).toBeUndefined();
    expect(toNumber('')).toBeUndefined();
    expect(toNumber(Number.NaN)).toBeUndefined();
    expect(toNumber(null)).toBeUndefined();
    expect(toCount('-1')).toBeUndefined();
    expect(toCount('2.6')).toBe(3);
  });

  it('reads maxmem above 2^31 and maxdisk 0', () => {
    const g = parseResourceEntry({
      id: 'qemu/100',
      vmid: 100,
      node: 'n',
      type: 'qemu',
      status: 'running',
      maxmem: 68719476736,
      maxdisk: 0,
    });
    expect(g?.maxmem).toBe(68719476736);
    expect(g?.maxdisk).toBe(0);
  });

  it('reads booleans as 0/1/"1"/"0"/true', () => {
    for (const t of [1, '1', true, 'true', 'yes', 'on']) expect(toBool(t)).toBe(true);
    for (const f of [0, '0', false, 'false', 'no', 'off', '']) expect(toBool(f)).toBe(false);
    expect(toBool('maybe')).toBeUndefined();
    expect(toBool(undefined)).toBeUndefined();
  });

  it('reads sizes with K/M/G/T (base 1024), bytes and scientific notation', () => {
    expect(parseSize('32G')).toBe(32 * 1024 ** 3);
    expect(parseSize('512M')).toBe(512 * 1024 ** 2);
    expect(parseSize('4K')).toBe(4096);
    expect(parseSize('2T')).toBe(2 * 1024 ** 4);
    expect(parseSize('1.5G')).toBe(1.5 * 1024 ** 3);
    expect(parseSize('100g')).toBe(100 * 1024 ** 3);
    expect(parseSize('10GiB')).toBe(10 * 1024 ** 3);
    expect(parseSize('4194304')).toBe(4194304);
    expect(parseSize('3.4e+15')).toBe(3.4e15);
    expect(parseSize(1024)).toBe(1024);
    expect(parseSize('big')).toBeUndefined();
    expect(parseSize(undefined)).toBeUndefined();
  });

  it('reads memory as "8192", "current=8192", 8192, absent = 512', () => {
    expect(parseMemoryMb('8192')).toBe(8192);
    expect(parseMemoryMb('current=8192')).toBe(8192);
    expect(parseMemoryMb('current=4096,other=1')).toBe(4096);
    expect(parseMemoryMb(8192)).toBe(8192);
    expect(parseMemoryMb(undefined)).toBe(512);
    expect(parseMemoryMb('')).toBe(512);
    expect(parseMemoryMb('garbage')).toBeUndefined();
  });
});

describe('property strings, tags and MACs', () => {
  it('splits property strings, keeping the default key', () => {
    expect(parsePropertyString('local-lvm:vm-101-disk-0,size=32G,ssd=1')).toEqual({
      '': 'local-lvm:vm-101-disk-0',
      size: '32G',
      ssd: '1',
    });
    expect(
      parsePropertyString('virtio=BC:24:11:00:00:01,bridge=vmbr0,tag=20,firewall=1,link_down=1'),
    ).toMatchObject({
      virtio: 'BC:24:11:00:00:01',
      bridge: 'vmbr0',
      link_down: '1',
    });
    expect(parsePropertyString('1,fstrim_cloned_disks=1')).toEqual({
      '': '1',
      fstrim_cloned_disks: '1',
    });
  });

  it('splits tags on ; , and whitespace, dropping empties and duplicates', () => {
    expect(parseTags('farm;eu')).toEqual(['farm', 'eu']);
    expect(parseTags('farm,eu')).toEqual(['farm', 'eu']);
    expect(parseTags('farm eu  prod')).toEqual(['farm', 'eu', 'prod']);
    expect(parseTags('a;;b; ,c;a')).toEqual(['a', 'b', 'c']);
    expect(parseTags('')).toEqual([]);
    expect(parseTags(undefined)).toEqual([]);
    expect(parseTags(['x', 'y;z'])).toEqual(['x', 'y', 'z']);
  });

  it('normalises MACs to AA:BB:CC:DD:EE:FF', () => {
    expect(normaliseMac('bc:24:11:5e:0a:01')).toBe('BC:24:11:5E:0A:01');
    expect(normaliseMac('BC-24-11-5E-0A-01')).toBe('BC:24:11:5E:0A:01');
    expect(normaliseMac('bc24115e0a01')).toBe('BC:24:11:5E:0A:01');
    expect(normaliseMac('bc24.115e.0a01')).toBe('BC:24:11:5E:0A:01');
    expect(normaliseMac('not-a-mac')).toBeUndefined();
    expect(normaliseMac('BC:24:11:5E:0A')).toBeUndefined();
  });

  it('clamps text in code points', () => {
    expect(clampText('abc', 5)).toBe('abc');
    expect(clampText('😀😀😀', 2)).toBe('😀😀');
  });
});

describe('/cluster/resources', () => {
  it('reads the documented fields and tolerates vmid as a string', () => {
    const { guests, malformed } = parseClusterResources([
      {
        id: 'qemu/101',
        vmid: '101',
        node: 'pve1',
        type: 'qemu',
        status: 'running',
        name: 'a',
        template: 0,
        maxcpu: 4,
        cpu: 0.12,
        maxmem: '4294967296',
        mem: 1e9,
        tags: 'x;y',
        lock: 'backup',
        hastate: 'started',
        pool: 'p',
      },
      {
        id: 'lxc/200',
        vmid: 200,
        node: 'pve1',
        type: 'lxc',
        status: 'stopped',
        name: 'ct',
        template: '0',
      },
      { id: 'node/pve1', type: 'node', node: 'pve1', status: 'online' },
      { id: 'storage/pve1/local', type: 'storage', node: 'pve1' },
    ]);
    expect(malformed).toEqual([]);
    expect(guests).toHaveLength(2);
    expect(guests[0]).toMatchObject({
      vmid: 101,
      type: 'qemu',
      node: 'pve1',
      status: 'running',
      template: false,
      maxcpu: 4,
      maxmem: 4294967296,
      tags: ['x', 'y'],
      lock: 'backup',
      hastate: 'started',
      pool: 'p',
      stale: false,
    });
    expect(guests[1]).toMatchObject({ vmid: 200, type: 'lxc', template: false, tags: [] });
  });

  it('is a template only when template is 1', () => {
    const t = (template: unknown) =>
      parseResourceEntry({
        id: 'qemu/9000',
        vmid: 9000,
        node: 'n',
        type: 'qemu',
        status: 'stopped',
        template,
      })?.template;
    expect(t(1)).toBe(true);
    expect(t('1')).toBe(true);
    expect(t(0)).toBe(false);
    expect(t('0')).toBe(false);
    expect(t(undefined)).toBe(false);
  });

  it('maps every QEMU run state /cluster/resources can carry onto a state of ours', () => {
    // pvestatd publishes `qmpstatus || status` for QEMU guests (pve-manager
    // PVE/Service/pvestatd.pm, update_qemu_status), so `status` here is any QEMU RunState
    // (qemu qapi/run-state.json: debug, inmigrate, internal-error, io-error, paused,
    // postmigrate, prelaunch, finish-migrate, restore-vm, running, save-vm, shutdown,
    // suspended, watchdog, guest-panicked, colo).
    const s = (status: unknown, lock?: string) =>
      parseResourceEntry({
        id: 'qemu/100',
        vmid: 100,
        node: 'n',
        type: 'qemu',
        status,
        name: 'x',
        ...(lock ? { lock } : {}),
      })?.status;
    const expected: Record<string, string> = {
      running: 'running',
      stopped: 'stopped',
      shutdown: 'stopped',
      paused: 'paused',
      'save-vm': 'paused',
      'restore-vm': 'paused',
      debug: 'paused',
      colo: 'paused',
      suspended: 'suspended',
      'io-error': 'io-error',
      inmigrate: 'migrating',
      postmigrate: 'migrating',
      'finish-migrate': 'migrating',
      prelaunch: 'prelaunch',
      'internal-error': 'internal-error',
      'guest-panicked': 'internal-error',
      watchdog: 'internal-error',
      unknown: 'unknown',
    };
    for (const [pve, ours] of Object.entries(expected)) expect(s(pve), pve).toBe(ours);
    expect(s('RUNNING')).toBe('running');
    expect(s(' Io-Error ')).toBe('io-error');
    // Hibernated: qemu-server's vmstatus says stopped; the saved state shows in the lock.
    expect(s('stopped', 'suspended')).toBe('suspended');
    expect(s('stopped', 'backup')).toBe('stopped');
    expect(s('running', 'suspended')).toBe('running');
    expect(s('some-future-state')).toBe('unknown');
    expect(s('constructor')).toBe('unknown');
    expect(s('__proto__')).toBe('unknown');
    expect(s(undefined)).toBe('unknown');
    expect(s(3)).toBe('unknown');
  });

  it('marks the name-less "unknown" entries of an offline node as stale and sends only their identity', () => {
    const g = parseResourceEntry({
      id: 'qemu/105',
      vmid: 105,
      node: 'pve2',
      type: 'qemu',
      status: 'unknown',
    });
    expect(g?.stale).toBe(true);
    expect(g?.tags).toBeUndefined();
    expect(buildSyncVm(g as NonNullable<typeof g>, undefined)).toEqual({
      vmid: 105,
      type: 'qemu',
      status: 'unknown',
    });
  });

  it('takes type and vmid from the id when missing, and reports unreadable guest entries', () => {
    const { guests, malformed } = parseClusterResources([
      { id: 'lxc/300', node: 'pve1', status: 'running', name: 'c' },
      { type: 'qemu', node: 'pve1', status: 'running' },
      { id: 'qemu/abc', type: 'qemu', status: 'running' },
      'garbage',
    ]);
    expect(guests.map((g) => [g.type, g.vmid])).toEqual([['lxc', 300]]);
    expect(malformed).toHaveLength(3);
    expect(malformed[0]?.node).toBe('pve1');
  });

  it('keeps the first of two entries with one VMID (mid-migration)', () => {
    const { guests } = parseClusterResources([
      {
        id: 'qemu/101',
        vmid: 101,
        node: 'pve1',
        type: 'qemu',
        status: 'running',
        name: 'a',
        lock: 'migrate',
      },
      { id: 'qemu/101', vmid: 101, node: 'pve2', type: 'qemu', status: 'running', name: 'a' },
    ]);
    expect(guests).toHaveLength(1);
    expect(guests[0]?.node).toBe('pve1');
  });

  it('reads hibernated guests (stopped with lock "suspended") as suspended, keeping the lock', () => {
    const g = parseResourceEntry({
      id: 'qemu/101',
      vmid: 101,
      node: 'n',
      type: 'qemu',
      status: 'stopped',
      name: 'h',
      lock: 'suspended',
    });
    expect(buildSyncVm(g as NonNullable<typeof g>, undefined)).toMatchObject({
      status: 'suspended',
      lock: 'suspended',
    });
  });

  it('refuses a non-list answer', () => {
    expect(() => parseClusterResources({ data: [] })).toThrow(PveError);
    expect(() => parseClusterResources(null)).toThrow(/did not return a list/);
  });
});

describe('qemu config', () => {
  const config = {
    digest: 'a1b2c3',
    name: 'farm-101',
    description: 'line one\nline two',
    tags: 'farm;eu',
    cores: '2',
    sockets: 2,
    memory: 'current=8192',
    net0: 'virtio=bc:24:11:5e:0a:01,bridge=vmbr0,firewall=1',
    net2: 'e1000=BC:24:11:5E:0A:03,bridge=vmbr1,tag=20,link_down=1',
    scsi0: 'local-lvm:vm-101-disk-0,size=32G,ssd=1',
    virtio1: 'local-lvm:vm-101-disk-1,size=1T',
    sata0: 'local-lvm:vm-101-disk-2,size=512M',
    ide2: 'local:iso/debian-12.iso,media=cdrom,size=628M',
    ide0: 'local-lvm:vm-101-cloudinit,media=cdrom',
    ide3: 'none,media=cdrom',
    efidisk0: 'local-lvm:vm-101-disk-3,efitype=4m,size=4M',
    unused0: 'local-lvm:vm-101-disk-9',
    ipconfig0: 'ip=10.0.0.101/24,gw=10.0.0.1,ip6=2001:db8::101/64',
    ipconfig1: 'ip=dhcp,ip6=auto',
    smbios1: 'uuid=4C4C4544-0042-3510-8052-B4C04F4E4D32,serial=abc,manufacturer=ZGVsbA==,base64=1',
    vmgenid: 'b5b0f5a1-0000-4000-8000-000000000001',
    agent: 'enabled=1,fstrim_cloned_disks=1',
    meta: 'creation-qemu=8.1.2,ctime=1700000000',
  };

  it('reads every field the agent uses', () => {
    const c = parseQemuConfig(config);
    expect(c).toEqual({
      digest: 'a1b2c3',
      name: 'farm-101',
      description: 'line one\nline two',
      tags: ['farm', 'eu'],
      cpuCores: 4,
      memoryMb: 8192,
      diskBytes: 32 * 1024 ** 3 + 1024 ** 4 + 512 * 1024 ** 2, // no CD-ROM, cloud-init, EFI vars or unused volume
      macs: ['BC:24:11:5E:0A:01', 'BC:24:11:5E:0A:03'], // net1 missing: a gap, not the end
      smbiosUuid: '4c4c4544-0042-3510-8052-b4c04f4e4d32',
      agentEnabled: true,
      staticIps: ['10.0.0.101', '2001:db8::101'],
    });
  });

  it('reads netN with gaps in numeric order (net10 after net2)', () => {
    expect(indexedKeys({ net10: 1, net2: 1, net0: 1, netfoo: 1 }, /^net(\d+)$/)).toEqual([
      'net0',
      'net2',
      'net10',
    ]);
  });

  it('defaults: memory absent = 512, one socket and core, vcpus wins', () => {
    expect(parseQemuConfig({}).memoryMb).toBe(512);
    expect(parseQemuConfig({}).cpuCores).toBe(1);
    expect(parseQemuConfig({ memory: 4096 }).memoryMb).toBe(4096);
    expect(parseQemuConfig({ cores: 4, sockets: 2, vcpus: 3 }).cpuCores).toBe(3);
    expect(parseQemuConfig({}).diskBytes).toBeUndefined();
  });

  it('reads agent as "1", "enabled=1,…", "1,fstrim_cloned_disks=1", 1, and off as "0"/absent', () => {
    expect(agentEnabled('1')).toBe(true);
    expect(agentEnabled(1)).toBe(true);
    expect(agentEnabled('enabled=1,fstrim_cloned_disks=1')).toBe(true);
    expect(agentEnabled('1,fstrim_cloned_disks=1')).toBe(true);
    expect(agentEnabled('enabled=0,fstrim_cloned_disks=1')).toBe(false);
    expect(agentEnabled('0')).toBe(false);
    expect(agentEnabled(undefined)).toBe(false);
  });

  it('skips CD-ROMs and cloud-init drives; reads sizes with K/M/G/T', () => {
    expect(driveSize('local:iso/x.iso,media=cdrom,size=600M')).toBeUndefined();
    expect(driveSize('local-lvm:vm-1-cloudinit,media=cdrom')).toBeUndefined();
    expect(driveSize('local-lvm:vm-1-cloudinit')).toBeUndefined();
    expect(driveSize('ceph:vm-1-disk-0,size=2T')).toBe(2 * 1024 ** 4);
    expect(driveSize('local:100/vm-100-disk-0.qcow2,size=4K')).toBe(4096);
    expect(driveSize('/dev/disk/by-id/ata-XYZ')).toBeUndefined();
  });

  it('reads smbios1 uuid and ignores a malformed one', () => {
    expect(smbiosUuid('uuid=4c4c4544-0042-3510-8052-b4c04f4e4d32')).toBe(
      '4c4c4544-0042-3510-8052-b4c04f4e4d32',
    );
    expect(smbiosUuid('serial=x,uuid=4C4C4544-0042-3510-8052-B4C04F4E4D32')).toBe(
      '4c4c4544-0042-3510-8052-b4c04f4e4d32',
    );
    expect(smbiosUuid('uuid=nope')).toBeUndefined();
    expect(smbiosUuid(undefined)).toBeUndefined();
  });

  it('reads MACs from the legacy macaddr= form too', () => {
    expect(
      parseQemuConfig({ net0: 'model=virtio,macaddr=DE:AD:BE:EF:00:01,bridge=vmbr0' }).macs,
    ).toEqual(['DE:AD:BE:EF:00:01']);
  });

  it('reads static addresses and skips dhcp/auto', () => {
    expect(staticAddress('10.0.0.5/24')).toBe('10.0.0.5');
    expect(staticAddress('dhcp')).toBeUndefined();
    expect(staticAddress('auto')).toBeUndefined();
    expect(staticAddress('manual')).toBeUndefined();
  });

  it('refuses a config that is not an object', () => {
    expect(() => parseQemuConfig(null)).toThrow(PveError);
    expect(() => parseQemuConfig([])).toThrow(/not an object/);
  });
});

describe('lxc config', () => {
  it('reads hostname, cores, memory, rootfs + mount points, hwaddr and static ip', () => {
    const c = parseLxcConfig({
      digest: 'ff',
      hostname: 'web',
      cores: 2,
      memory: 1024,
      swap: 512,
      rootfs: 'local-lvm:vm-200-disk-0,size=8G',
      mp0: 'local-lvm:vm-200-disk-1,mp=/data,size=100G',
      mp1: '/mnt/host,mp=/host',
      net0: 'name=eth0,bridge=vmbr0,hwaddr=bc:24:11:aa:bb:01,ip=10.0.0.50/24,gw=10.0.0.1,type=veth',
      net3: 'name=eth1,bridge=vmbr1,hwaddr=BC:24:11:AA:BB:02,ip=dhcp,ip6=fd00::50/64,type=veth',
      tags: 'web prod',
    });
    expect(c).toMatchObject({
      name: 'web',
      cpuCores: 2,
      memoryMb: 1024,
      diskBytes: 108 * 1024 ** 3,
      macs: ['BC:24:11:AA:BB:01', 'BC:24:11:AA:BB:02'],
      staticIps: ['10.0.0.50', 'fd00::50'],
      tags: ['web', 'prod'],
      smbiosUuid: undefined,
      agentEnabled: false,
    });
    expect(parseLxcConfig({}).cpuCores).toBeUndefined(); // unlimited
  });
});

describe('guest interfaces', () => {
  it('reads the guest agent answer, with interfaces lacking addresses or a MAC', () => {
    const ifaces = parseAgentInterfaces({
      result: [
        {
          name: 'lo',
          'hardware-address': '00:00:00:00:00:00',
          'ip-addresses': [{ 'ip-address': '127.0.0.1', 'ip-address-type': 'ipv4', prefix: 8 }],
        },
        {
          name: 'eth0',
          'hardware-address': 'bc:24:11:5e:0a:01',
          'ip-addresses': [
            { 'ip-address': '10.0.0.101', 'ip-address-type': 'ipv4', prefix: 24 },
            {
              'ip-address': 'fe80::be24:11ff:fe5e:a01%eth0',
              'ip-address-type': 'ipv6',
              prefix: 64,
            },
          ],
        },
        { name: 'eth1' },
        { 'ip-addresses': [{ 'ip-address': '192.0.2.1', 'ip-address-type': 'ipv4' }] },
        { name: 'bad', 'ip-addresses': [{ 'ip-address': 'not-ip' }] },
      ],
    });
    expect(ifaces).toHaveLength(5);
    expect(ifaces[1]).toEqual({
      name: 'eth0',
      mac: 'BC:24:11:5E:0A:01',
      addresses: [
        { ip: '10.0.0.101', family: 4, prefix: 24 },
        { ip: 'fe80::be24:11ff:fe5e:a01', family: 6, prefix: 64 },
      ],
    });
    expect(ifaces[2]).toEqual({ name: 'eth1', mac: undefined, addresses: [] });
    expect(ifaces[4]?.addresses).toEqual([]);
    expect(parseAgentInterfaces([{ name: 'eth0' }])).toHaveLength(1);
    expect(parseAgentInterfaces(null)).toEqual([]);
  });

  it('reads LXC interfaces (inet/inet6 strings or ip-addresses) and a stopped container (null)', () => {
    expect(parseLxcInterfaces(null)).toEqual([]);
    const ifaces = parseLxcInterfaces([
      { name: 'lo', hwaddr: '00:00:00:00:00:00', inet: '127.0.0.1/8', inet6: '::1/128' },
      {
        name: 'eth0',
        hwaddr: 'bc:24:11:aa:bb:01',
        inet: '10.0.0.50/24',
        'ip-addresses': [
          { 'ip-address': '10.0.0.50', 'ip-address-type': 'inet', prefix: '24' },
          { 'ip-address': 'fd00::50', 'ip-address-type': 'inet6', prefix: '64' },
        ],
      },
    ]);
    expect(ifaces[1]).toEqual({
      name: 'eth0',
      mac: 'BC:24:11:AA:BB:01',
      addresses: [
        { ip: '10.0.0.50', family: 4, prefix: 24 },
        { ip: 'fd00::50', family: 6, prefix: 64 },
      ],
    });
  });
});

describe('cluster status and version', () => {
  it('reads a cluster with quorum and node states', () => {
    const s = parseClusterStatus([
      { type: 'cluster', name: 'lab', nodes: 2, quorate: 1, version: 4 },
      { type: 'node', name: 'pve1', nodeid: 1, ip: '10.0.0.1', local: 1, online: 1 },
      { type: 'node', name: 'pve2', nodeid: 2, ip: '10.0.0.2', local: 0, online: 0 },
    ]);
    expect(s).toEqual({
      cluster: 'lab',
      quorate: true,
      nodes: [
        { name: 'pve1', online: true, local: true, ip: '10.0.0.1' },
        { name: 'pve2', online: false, local: false, ip: '10.0.0.2' },
      ],
    });
    expect(
      parseClusterStatus([
        { type: 'cluster', name: 'lab', quorate: 0 },
        { type: 'node', name: 'a', online: 1 },
      ]).quorate,
    ).toBe(false);
  });

  it('treats a standalone node (no cluster entry) as quorate', () => {
    expect(parseClusterStatus([{ type: 'node', name: 'pve', online: 1, local: 1 }]).quorate).toBe(
      true,
    );
    expect(() => parseClusterStatus([])).toThrow(/no node/);
  });

  it('reads /version', () => {
    expect(parseVersion({ version: '8.4.1', release: '8.4', repoid: 'abc' })).toBe('8.4.1');
    expect(majorVersion('9.0.3')).toBe(9);
    expect(majorVersion(undefined)).toBeUndefined();
  });
});

describe('sync body for one guest', () => {
  it('omits what is unknown and clamps to the contract limits', () => {
    const g = parseResourceEntry({
      id: 'qemu/101',
      vmid: 101,
      node: 'n',
      type: 'qemu',
      status: 'running',
      maxmem: 2147483648,
      maxcpu: 2,
      cpu: 0.5,
      mem: 1e9,
      uptime: 99.6,
    });
    if (!g) throw new Error('unparsed');
    // A new VM may lack its name for ~10 s: no name is sent, the server keeps or derives one.
    expect(buildSyncVm(g, undefined)).toEqual({
      vmid: 101,
      type: 'qemu',
      status: 'running',
      template: false,
      lock: null,
      cpu_cores: 2,
      memory_mb: 2048,
      cpu_usage: 0.5,
      mem_usage: 1e9,
      uptime_s: 100,
      tags: [],
    });
    const cached = newCachedGuest('qemu');
    cached.config = parseQemuConfig({
      name: 'n'.repeat(300),
      description: 'd'.repeat(9000),
      tags: Array.from({ length: 60 }, (_, i) => `t${i}`).join(';'),
    });
    const vm = buildSyncVm({ ...g, tags: undefined }, cached);
    expect(vm.name).toHaveLength(200);
    expect(vm.description).toHaveLength(8192);
    expect(vm.tags).toHaveLength(50);
    expect(vm.smbios_uuid).toBeNull();
    expect(vm.mac_addresses).toEqual([]);
  });

  it('does not use a cached config of another guest type (VMID reused)', () => {
    const g = parseResourceEntry({
      id: 'lxc/101',
      vmid: 101,
      node: 'n',
      type: 'lxc',
      status: 'running',
      name: 'ct',
    });
    const cached = newCachedGuest('qemu');
    cached.config = parseQemuConfig({ net0: 'virtio=BC:24:11:00:00:01' });
    expect(buildSyncVm(g as NonNullable<typeof g>, cached).mac_addresses).toBeUndefined();
  });
});
