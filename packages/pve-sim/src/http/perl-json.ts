/**
 * Proxmox encodes its JSON with Perl, which prints large floating-point counters in
 * scientific notation (`"netin":3.4e+15`). JSON.stringify never does, so such values are
 * wrapped in PerlFloat and rewritten after stringifying.
 */
const MARK = '\u0001perl-float:';
const MARKED = /"\\u0001perl-float:([^"]*)"/g;

/** Perl's `%.15g`: at most 15 significant digits, exponent form from 1e15 up. */
export function formatPerlFloat(value: number): string {
  if (!Number.isFinite(value)) return '0';
  const text = value.toPrecision(15);
  if (!text.includes('e')) return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
  const [mantissa = '0', exponent = '0'] = text.split('e');
  const trimmed = mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa;
  const exp = Number(exponent);
  return `${trimmed}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

export class PerlFloat {
  constructor(readonly value: number) {}

  toJSON(): string {
    return MARK + formatPerlFloat(this.value);
  }
}

/** A number, or a PerlFloat when the guest drifts into scientific notation. */
export type JsonNumber = number | PerlFloat;

/** JSON.stringify that prints PerlFloat values as bare scientific-notation numbers. */
export function toPerlJson(value: unknown): string {
  const text = JSON.stringify(value);
  return text.includes('\\u0001perl-float:') ? text.replace(MARKED, '$1') : text;
}
