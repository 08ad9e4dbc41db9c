/**
 * The singular of a list's plural noun ("VMs" → "VM", "entries" → "entry", "hardware
 * profiles" → "hardware profile"): what a count of one says.
 */
export function singular(plural: string): string {
  if (plural.endsWith('ies')) return `${plural.slice(0, -3)}y`;
  if (plural.endsWith('s')) return plural.slice(0, -1);
  return plural;
}
