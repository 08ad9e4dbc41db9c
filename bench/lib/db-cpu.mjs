import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system, ms) used so far by the PostgreSQL backends connected to the
 * database `name`, read from /proc (the database must run on this machine). Backends that
 * are gone are not counted, so measure across a warm pool that keeps its connections.
 */
export async function backendCpuMs(db, name) {
  let ticks = 0;
  for (const t of (await backendTicks(db, name)).values()) ticks += t;
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** CPU ticks so far of each backend connected to the database `name`, by pid. */
async function backendTicks(db, name) {
  const { rows } = await db.query(
    // Client backends only: an autovacuum worker cleaning up after the last run is not the
    // cost of this one.
    "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
    [name],
  );
  const ticks = new Map();
  for (const { pid } of rows) {
    try {
      // Fields after the command name: state is field 3, utime 14 and stime 15 (1-based).
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks.set(pid, Number(fields[11]) + Number(fields[12]));
    } catch {
      // gone meanwhile
    }
  }
  return ticks;
}

/**
 * Watches the CPU time of the backends of database `name` from now until stop(), also of
 * backends that connect and leave meanwhile (pgbench's), read every `intervalMs`: a backend
 * that leaves between two reads loses at most that interval's time. stop() returns ms.
 */
export async function watchBackendCpu(db, name, intervalMs = 100) {
  const start = await backendTicks(db, name);
  const last = new Map(start);
  const read = async () => {
    for (const [pid, t] of await backendTicks(db, name)) last.set(pid, t);
  };
  let reading = Promise.resolve();
  const timer = setInterval(() => {
    reading = reading.then(read, read);
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await reading;
      await read();
      let ticks = 0;
      for (const [pid, t] of last) ticks += t - (start.get(pid) ?? 0);
      return (ticks * 1000) / TICKS_PER_SECOND;
    },
  };
}
