import { WORDS } from './seed-sql.mjs';

/**
 * Search terms a user of bench user `index` would type, built from the seed's own naming
 * rule (adjective + noun + row number, steam id, e-mail): whole names, name fragments, an
 * id, an address, and a bare word that matches about one row in 19.
 */
export function searchTerms(index) {
  const { adjectives: A, nouns: N } = WORDS;
  const name = (g) => `${A[g % A.length]}${N[(g * 7 + index) % N.length]}${g}`;
  const steamId = (g) => String(76561197960265728n + BigInt(index) * 100000000n + BigInt(g));
  return [
    name(4557),
    name(123),
    name(9001),
    `${N[(2231 * 7 + index) % N.length]}2231`,
    `${N[(777 * 7 + index) % N.length]}77`,
    steamId(5150),
    steamId(42).slice(-8),
    `${name(3089)}@`,
    `${name(6000)}@inbox.test`,
    'falcon',
  ];
}
