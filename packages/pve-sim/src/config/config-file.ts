import { createHash } from 'node:crypto';

/** Characters a description comment line keeps as they are; the rest is %XX-encoded. */
const PLAIN_COMMENT = /[^-_.!~*'()a-zA-Z0-9 :/,;=+@#[\]]/gu;

function encodeCommentLine(line: string): string {
  return line.replace(PLAIN_COMMENT, (ch) =>
    Array.from(
      Buffer.from(ch, 'utf8'),
      (b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    ).join(''),
  );
}

/**
 * The guest's config file as Proxmox writes it: the description as `#` comment lines at
 * the top, then `key: value` lines in sorted key order.
 */
export function serialiseConfig(config: Readonly<Record<string, string>>): string {
  let raw = '';
  const description = config.description;
  if (description !== undefined) {
    raw +=
      description === ''
        ? '#\n'
        : description
            .split('\n')
            .map((l) => `#${encodeCommentLine(l)}\n`)
            .join('');
  }
  for (const key of Object.keys(config).sort()) {
    if (key === 'description' || key === 'digest') continue;
    raw += `${key}: ${config[key]}\n`;
  }
  return raw;
}

/** SHA-1 (hex) of the serialised config, like the `digest` Proxmox returns with a config. */
export function configDigest(config: Readonly<Record<string, string>>): string {
  return createHash('sha1').update(serialiseConfig(config)).digest('hex');
}
