/** Matches paths against `/nodes/{node}/qemu/{vmid}`-style patterns. */

export interface RouteMatch<R> {
  route: R;
  params: Record<string, string>;
}

interface Compiled<R> {
  route: R;
  segments: string[];
}

const segmentsOf = (path: string) => path.split('/').filter(Boolean);

export class Router<R extends { pattern: string }> {
  private readonly compiled: Compiled<R>[];

  constructor(routes: readonly R[]) {
    this.compiled = routes.map((route) => ({ route, segments: segmentsOf(route.pattern) }));
  }

  /** Every route whose pattern matches the path (several when only the method differs). */
  matchAll(path: string): RouteMatch<R>[] {
    const parts = segmentsOf(path);
    const out: RouteMatch<R>[] = [];
    for (const { route, segments } of this.compiled) {
      if (segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segments.length && ok; i++) {
        const seg = segments[i] as string;
        const part = parts[i] as string;
        if (seg.startsWith('{') && seg.endsWith('}')) params[seg.slice(1, -1)] = safeDecode(part);
        else ok = seg === part;
      }
      if (ok) out.push({ route, params });
    }
    return out;
  }

  match(path: string): RouteMatch<R> | undefined {
    return this.matchAll(path)[0];
  }
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
