// The call pattern of the earlier AccountDB agent, as the baseline of the sync benchmark:
// list the node's guests, then read config and status of every guest, then one HTTP call to
// AccountDB per guest (create the first time, update every time after), whether or not
// anything changed.

/** `smbios1: uuid=…,manufacturer=…` → the UUID. */
const smbiosUuid = (smbios1) =>
  /(?:^|,)uuid=([0-9a-fA-F-]{32,36})/.exec(smbios1 ?? '')?.[1] ?? null;
const macs = (config) =>
  Object.entries(config)
    .filter(([k]) => /^net\d+$/.test(k))
    .map(([, v]) => /(?:[a-z0-9]+|hwaddr)=([0-9A-Fa-f:]{17})/.exec(String(v))?.[1])
    .filter(Boolean);

/** Runs fn over items with at most `concurrency` in flight. */
async function eachLimited(items, concurrency, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}

/**
 * One cycle of the old agent. `ids` maps vmid → AccountDB id between cycles (the old agent
 * kept it in a file). Returns the number of HTTP calls made to Proxmox and to AccountDB.
 */
export async function oldAgentCycle({ sim, node, api, nodeId, token, ids, concurrency }) {
  const pve = async (path) => {
    const res = await fetch(`${sim.url}/api2/json${path}`, {
      headers: { authorization: `PVEAPIToken=${sim.tokenId}=${sim.tokenSecret}` },
    });
    if (!res.ok) throw new Error(`Proxmox ${path}: HTTP ${res.status}`);
    return (await res.json()).data;
  };
  let pveCalls = 0;
  let adbCalls = 0;
  const guests = [];
  for (const type of ['qemu', 'lxc']) {
    pveCalls++;
    for (const g of await pve(`/nodes/${node}/${type}`)) guests.push({ ...g, type });
  }
  await eachLimited(guests, concurrency, async (g) => {
    const base = `/nodes/${node}/${g.type}/${g.vmid}`;
    const config = await pve(`${base}/config`);
    const status = await pve(`${base}/status/current`);
    pveCalls += 2;
    const body = {
      name: config.name ?? config.hostname ?? null,
      status: status.status === 'running' ? 'running' : 'stopped',
      cpu_cores: Number.isFinite(Number(config.cores)) ? Number(config.cores) : null,
      memory_mb: Number.isFinite(Number(config.memory)) ? Number(config.memory) : null,
      mac_addresses: macs(config),
      smbios_uuid: smbiosUuid(config.smbios1),
    };
    const id = ids.get(g.vmid);
    const res = await fetch(`${api}/api/v1/vms${id ? `/${id}` : ''}`, {
      method: id ? 'PATCH' : 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(
        id
          ? body
          : { ...body, node_id: nodeId, vmid: g.vmid, type: g.type === 'lxc' ? 'lxc' : 'qemu' },
      ),
    });
    adbCalls++;
    if (!res.ok) throw new Error(`AccountDB vm ${g.vmid}: HTTP ${res.status} ${await res.text()}`);
    if (!id) ids.set(g.vmid, (await res.json()).id);
    else await res.arrayBuffer();
  });
  return { guests: guests.length, pveCalls, adbCalls };
}
