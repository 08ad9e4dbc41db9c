// A load generator run as a child process (see runLoad): `concurrency` workers send the
// given requests in turn, for `count` requests in all or for `seconds`, and report each
// request's latency, the status codes, the CPU time the generator used (cpuMs) and, with
// collect, a field of each 2xx answer.
// stdin: JSON {base, token, requests: [{method, path, body}], concurrency, count?, seconds?,
//              collect?: "account.id", stopOn404?: true}; stdout: JSON report.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

/**
 * One request over a kept-alive connection of `agent`: {status, text}. node:http costs about
 * half the CPU per request of fetch (undici), and the generator shares the cores with the API
 * and PostgreSQL.
 */
function send(agent, url, { method, headers, body }) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent, method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function generate(spec) {
  const latencies = [];
  const statuses = {};
  const collected = [];
  const deadline = spec.seconds ? performance.now() + spec.seconds * 1000 : Infinity;
  let issued = 0;
  let stop = false;
  const pick = (obj, path) => path.split('.').reduce((o, k) => o?.[k], obj);
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const worker = async (w) => {
    while (!stop && performance.now() < deadline && (!spec.count || issued < spec.count)) {
      const r = spec.requests[issued++ % spec.requests.length];
      const body =
        r.body === undefined ? undefined : JSON.stringify(r.body).replaceAll('{worker}', String(w));
      const t0 = performance.now();
      const res = await send(agent, `${spec.base}${r.path}`, {
        method: r.method ?? 'GET',
        headers: {
          authorization: `Bearer ${spec.token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body,
      });
      latencies.push(performance.now() - t0);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      const ok = res.status >= 200 && res.status < 300;
      if (ok && spec.collect) collected.push(pick(JSON.parse(res.text), spec.collect));
      if (res.status === 404 && spec.stopOn404) stop = true;
    }
  };
  const t0 = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(Array.from({ length: spec.concurrency }, (_, w) => worker(w)));
  const cpu = process.cpuUsage(cpuBefore);
  agent.destroy();
  return {
    latencies,
    statuses,
    collected,
    seconds: (performance.now() - t0) / 1000,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

/** Runs the load generator in a child process and resolves with its report. */
export function runLoad(spec) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`load client exited with ${code}`));
      else resolve(JSON.parse(out));
    });
    child.stdin.end(JSON.stringify(spec));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  process.stdout.write(JSON.stringify(await generate(JSON.parse(input))));
}
