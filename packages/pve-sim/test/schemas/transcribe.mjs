// Writes pve-<version>.schema.json: the response schemas of the endpoints pve-sim serves,
// transcribed from Proxmox VE's published API description (pve-docs api-viewer/apidata.js)
// into JSON Schema (draft 2020-12) — types, enums, patterns (those JavaScript can read),
// minimums and required fields;
// descriptions are left out. Proxmox booleans become the integers 0/1 its JSON carries.
//
//   git -C pve-docs show <commit>:api-viewer/apidata.js > /tmp/apidata.js
//   node transcribe.mjs /tmp/apidata.js <pve-version> <commit>
//
// The result is checked in; supplements.json adds what apidata.js leaves open (the guest
// agent's answer, the `ha` object) and is merged in here, each entry naming its source.
import { readFileSync, writeFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';

const [file, version, commit] = process.argv.slice(2);
if (!file || !version || !commit) {
  process.stderr.write('usage: node transcribe.mjs APIDATA.JS PVE_VERSION COMMIT\n');
  process.exit(2);
}

const ENDPOINTS = [
  ['GET', '/version'],
  ['POST', '/access/ticket'],
  ['GET', '/nodes'],
  ['GET', '/nodes/{node}/status'],
  ['GET', '/cluster/status'],
  ['GET', '/cluster/resources'],
  ['GET', '/nodes/{node}/qemu'],
  ['GET', '/nodes/{node}/qemu/{vmid}/status/current'],
  ['GET', '/nodes/{node}/qemu/{vmid}/config'],
  ['GET', '/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces'],
  ['GET', '/nodes/{node}/lxc'],
  ['GET', '/nodes/{node}/lxc/{vmid}/status/current'],
  ['GET', '/nodes/{node}/lxc/{vmid}/config'],
  ['GET', '/nodes/{node}/lxc/{vmid}/interfaces'],
];

const sandbox = {};
runInNewContext(
  readFileSync(file, 'utf8').replace(/^const apiSchema\s*=/m, 'globalThis.apiSchema ='),
  sandbox,
);
const byPath = new Map();
const walk = (node) => {
  if (node.path) byPath.set(node.path, node.info);
  for (const child of node.children ?? []) walk(child);
};
for (const node of sandbox.apiSchema) walk(node);

/** Perl-only patterns (`(?^:…)`, atomic groups) are left out. */
function jsRegExp(pattern) {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

function convert(s) {
  if (!s || typeof s !== 'object') return {};
  const out = {};
  switch (s.type) {
    case 'boolean':
      out.type = 'integer';
      out.enum = [0, 1];
      break;
    case 'null':
      out.type = 'null';
      break;
    case 'array':
      out.type = 'array';
      if (s.items) out.items = convert(s.items);
      break;
    case 'object': {
      out.type = 'object';
      const props = {};
      const patterns = {};
      const required = [];
      for (const [key, value] of Object.entries(s.properties ?? {})) {
        const m = /^([a-z0-9_-]+)\[n\]$/.exec(key);
        if (m) patterns[`^${m[1]}\\d+$`] = convert(value);
        else props[key] = convert(value);
        if (!m && !value.optional) required.push(key);
      }
      if (Object.keys(props).length) out.properties = props;
      if (Object.keys(patterns).length) out.patternProperties = patterns;
      if (required.length) out.required = required.sort();
      break;
    }
    case 'integer':
    case 'number':
    case 'string':
      out.type = s.type;
      break;
    default:
      break;
  }
  if (s.enum) out.enum = s.enum;
  if (typeof s.pattern === 'string' && s.type === 'string' && jsRegExp(s.pattern)) {
    out.pattern = `^(?:${s.pattern})$`;
  }
  if (typeof s.minimum === 'number') out.minimum = s.minimum;
  if (typeof s.maximum === 'number') out.maximum = s.maximum;
  return out;
}

const supplements = JSON.parse(readFileSync(new URL('./supplements.json', import.meta.url)));
const endpoints = {};
for (const [method, path] of ENDPOINTS) {
  const info = byPath.get(path)?.[method];
  if (!info) throw new Error(`${method} ${path} not in ${file}`);
  const key = `${method} ${path}`;
  endpoints[key] = { ...convert(info.returns), ...(supplements.endpoints[key]?.schema ?? {}) };
}
const out = {
  $comment:
    `Response schemas (the "data" member) of Proxmox VE ${version}, transcribed by transcribe.mjs ` +
    `from proxmox/pve-docs api-viewer/apidata.js at commit ${commit}; Proxmox booleans are the ` +
    'integers 0/1; entries of supplements.json are merged in and name their own source.',
  pveVersion: version,
  source: { repository: 'proxmox/pve-docs', file: 'api-viewer/apidata.js', commit },
  endpoints,
};
writeFileSync(
  new URL(`./pve-${version}.schema.json`, import.meta.url),
  `${JSON.stringify(out, null, 2)}\n`,
);
