import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs autocannon in a child process (so it does not share the API's event loop) against
 * one URL. Returns {rps, requests, non2xx, errors, latencyMs, cpuMs}; cpuMs is the CPU time
 * autocannon itself used, which on a small machine is taken from the API and PostgreSQL.
 */
export function autocannon(url, { connections, seconds, headers = {} }) {
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
      if (code !== 0) return reject(new Error(`autocannon exited with ${code}`));
      const { result: r, cpuMs } = JSON.parse(out);
      const ok = r['2xx'] ?? 0;
      resolve({
        rps: ok / r.duration,
        requests: r.requests.total,
        non2xx: r.non2xx,
        errors: r.errors + r.timeouts,
        latencyMs: {
          avg: r.latency.average,
          p50: r.latency.p50,
          p90: r.latency.p90,
          p99: r.latency.p99,
        },
        cpuMs,
      });
    });
    child.stdin.end(JSON.stringify({ url, connections, duration: seconds, headers }));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { default: run } = await import('autocannon');
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const before = process.cpuUsage();
  const result = await run(JSON.parse(input));
  const cpu = process.cpuUsage(before);
  process.stdout.write(JSON.stringify({ result, cpuMs: (cpu.user + cpu.system) / 1000 }));
}
