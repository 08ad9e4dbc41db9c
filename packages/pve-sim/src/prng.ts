/**
 * Seeded pseudo-random numbers (mulberry32 over a splitmix-scrambled seed). Scenarios, drift
 * and injected errors draw from these so that a seed always gives the same cluster; nothing
 * in the simulator uses Math.random.
 */
export interface Prng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Picks a value with probability proportional to its weight. */
  weighted<T>(choices: readonly (readonly [T, number])[]): T;
  /** `bytes` random bytes as lower-case hex. */
  hex(bytes: number): string;
  /** A random (version 4 layout) UUID. */
  uuid(): string;
  /** Fisher–Yates shuffle of a copy. */
  shuffle<T>(items: readonly T[]): T[];
}

/** 32-bit finaliser of MurmurHash3: a cheap, well-mixed integer hash. */
function fmix32(value: number): number {
  let h = value | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Stateless hash of a few integers: the same inputs give the same 32-bit output. */
export function hash32(...values: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const v of values) {
    h = fmix32(h ^ fmix32(Math.trunc(v) | 0));
    h = Math.imul(h ^ Math.trunc(v / 4294967296), 0x01000193);
  }
  return fmix32(h);
}

/** Stateless hash of a few integers scaled to [0, 1). */
export function hashUnit(...values: readonly number[]): number {
  return hash32(...values) / 4294967296;
}

export function createPrng(seed: number): Prng {
  let state = hash32(seed, 0x5eed);
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  const hex = (bytes: number): string => {
    let out = '';
    for (let i = 0; i < bytes; i++) out += int(0, 255).toString(16).padStart(2, '0');
    return out;
  };
  return {
    next,
    int,
    hex,
    chance: (probability) => next() < probability,
    pick<T>(items: readonly T[]): T {
      const item = items[int(0, items.length - 1)];
      if (item === undefined) throw new Error('pick from an empty list');
      return item;
    },
    weighted<T>(choices: readonly (readonly [T, number])[]): T {
      const total = choices.reduce((sum, [, w]) => sum + w, 0);
      let roll = next() * total;
      for (const [value, weight] of choices) {
        roll -= weight;
        if (roll < 0) return value;
      }
      const last = choices[choices.length - 1];
      if (!last) throw new Error('weighted pick from an empty list');
      return last[0];
    },
    uuid(): string {
      const h = hex(16);
      const variant = ((int(0, 15) & 0x3) | 0x8).toString(16);
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
    },
    shuffle<T>(items: readonly T[]): T[] {
      const out = items.slice();
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(0, i);
        const a = out[i] as T;
        out[i] = out[j] as T;
        out[j] = a;
      }
      return out;
    },
  };
}
