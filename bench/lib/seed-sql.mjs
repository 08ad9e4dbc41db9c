// Set-based INSERT … SELECT generate_series statements of the seed. Each runs inside a
// tenant transaction of the row's owner (RLS forced, WITH CHECK on owner_id), so every row
// is written under the same rules as through the API. Values are deterministic.

const ADJECTIVES = [
  'swift',
  'dark',
  'silent',
  'lucky',
  'brave',
  'cold',
  'wild',
  'red',
  'iron',
  'gold',
  'lone',
  'mad',
  'quiet',
  'rapid',
  'sly',
  'true',
  'grim',
];
const NOUNS = [
  'wolf',
  'fox',
  'hawk',
  'bear',
  'tiger',
  'raven',
  'shark',
  'viper',
  'eagle',
  'lynx',
  'cobra',
  'otter',
  'panda',
  'moose',
  'bison',
  'falcon',
  'badger',
  'heron',
  'mantis',
];

const arr = (words) => `(ARRAY[${words.map((w) => `'${w}'`).join(',')}])`;

/** 17 adjectives × 19 nouns: 323 name stems, each followed by the row number. */
export const WORDS = { adjectives: ADJECTIVES, nouns: NOUNS };

export const INSERT_NODES = `
INSERT INTO proxmox_nodes (owner_id, name, hostname, status, api_key_prefix, api_key_hash,
                           pve_version, agent_version, last_seen_at, last_sync_at)
SELECT $1::uuid, 'pve-' || g, 'pve-' || g || '.lan', 'online',
       'adb_node_' || substr(md5($1::text || g), 1, 12), sha256(($1::text || g)::bytea),
       '8.2.4', '0.1.0', now(), now()
FROM generate_series(1, $2::int) g
RETURNING id`;

// $1 owner, $2 user index, $3 first row, $4 last row, $5 rows of this user
export const INSERT_ACCOUNTS = `
INSERT INTO accounts (owner_id, external_id, service, username, email, status, locked_until,
                      tags, created_at, updated_at)
SELECT $1::uuid,
       (76561197960265728 + $2::bigint * 100000000 + g)::text,
       CASE WHEN g % 10 = 0 THEN 'epic' ELSE 'steam' END,
       n.name,
       n.name || '@' || (ARRAY['example.com', 'mail.test', 'inbox.test'])[1 + g % 3],
       CASE WHEN g % 50 = 0 THEN 'banned' WHEN g % 50 = 1 THEN 'disabled'
            WHEN g % 25 = 2 THEN 'locked' ELSE 'active' END,
       CASE WHEN g % 25 = 2 THEN now() + interval '1 day' END,
       CASE WHEN g % 5 = 0 THEN ARRAY['prime'] WHEN g % 7 = 0 THEN ARRAY['eu', 'farm']
            ELSE '{}'::text[] END,
       n.at, n.at
FROM generate_series($3::int, $4::int) g,
LATERAL (SELECT ${arr(ADJECTIVES)}[1 + g % ${ADJECTIVES.length}]
                || ${arr(NOUNS)}[1 + (g * 7 + $2::int) % ${NOUNS.length}] || g::text AS name,
                now() - make_interval(secs => ($5::int - g) * 60) AS at) n`;

// $1 owner, $2 user index, $3 first row, $4 last row, $5 rows of this user,
// $6 node ids, $7 account ids (every other VM is assigned one)
export const INSERT_VMS = `
INSERT INTO vms (owner_id, node_id, vmid, type, name, status, template, cpu_cores, memory_mb,
                 disk_gb, ip_addresses, mac_addresses, tags, account_id, cpu_usage, mem_usage,
                 uptime_s, source, last_seen_at, created_at, updated_at)
SELECT $1::uuid,
       ($6::uuid[])[1 + g % cardinality($6::uuid[])],
       100 + g,
       CASE WHEN g % 10 = 0 THEN 'lxc' ELSE 'qemu' END,
       'vm-' || ${arr(NOUNS)}[1 + g % ${NOUNS.length}] || '-' || g,
       CASE WHEN g % 10 < 6 THEN 'running' WHEN g % 10 < 9 THEN 'stopped' ELSE 'paused' END,
       g % 97 = 0,
       (ARRAY[1, 2, 4, 8])[1 + g % 4],
       (ARRAY[2048, 4096, 8192, 16384])[1 + g % 4],
       32 + (g % 5) * 16,
       ARRAY['10.' || ($2::int % 250) || '.' || (g / 250 % 250) || '.' || (g % 250 + 1)],
       ARRAY[upper(format('BC:24:%s:%s:%s:%s', lpad(to_hex($2::int % 256), 2, '0'),
             lpad(to_hex((g >> 16) & 255), 2, '0'), lpad(to_hex((g >> 8) & 255), 2, '0'),
             lpad(to_hex(g & 255), 2, '0')))],
       CASE WHEN g % 4 = 0 THEN ARRAY['prod'] WHEN g % 4 = 1 THEN ARRAY['farm']
            ELSE '{}'::text[] END,
       CASE WHEN g % 2 = 0 AND g / 2 <= cardinality($7::uuid[]) THEN ($7::uuid[])[g / 2] END,
       CASE WHEN g % 10 < 6 THEN (g % 100) / 100.0 END,
       CASE WHEN g % 10 < 6 THEN (g % 8) * 268435456::bigint END,
       CASE WHEN g % 10 < 6 THEN g * 37 END,
       'agent', now(),
       now() - make_interval(secs => ($5::int - g) * 60),
       now() - make_interval(secs => ($5::int - g) * 60)
FROM generate_series($3::int, $4::int) g`;

export const ACCOUNT_IDS =
  "SELECT coalesce(array_agg(id ORDER BY created_at, id), '{}') AS ids FROM accounts WHERE owner_id = $1";

// $1 first, $2 last, $3 password hash
export const INSERT_USERS = `
INSERT INTO users (username, email, password_hash, role)
SELECT 'bench_user_' || lpad(g::text, 4, '0'), 'bench_user_' || lpad(g::text, 4, '0') || '@bench.test',
       $3, 'user'
FROM generate_series($1::int, $2::int) g
RETURNING id, username`;
