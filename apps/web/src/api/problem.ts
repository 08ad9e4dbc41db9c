import type { components } from './schema';

/** An application/problem+json answer of the API. */
export type Problem = components['schemas']['Problem'];

export function isProblem(value: unknown): value is Problem {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { status?: unknown }).status === 'number' &&
    typeof (value as { title?: unknown }).title === 'string'
  );
}

/** The message a person should read: the detail when there is one, else the title. */
export function problemMessage(problem: unknown, fallback = 'Something went wrong.'): string {
  if (!isProblem(problem)) return fallback;
  return problem.detail || problem.title || fallback;
}

/**
 * Field errors of a problem, keyed by field name: "/body/email" → "email",
 * "/body/user/name" → "user.name". Errors outside the body (query, path) are left out.
 */
export function fieldErrors(problem: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isProblem(problem)) return out;
  for (const error of problem.errors ?? []) {
    const match = /^\/body\/(.+)$/.exec(error.path);
    if (!match?.[1]) continue;
    const field = match[1].replaceAll('/', '.');
    out[field] ??= error.message;
  }
  return out;
}

/** Thrown by the data layer for a non-2xx answer, carrying the problem. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | undefined;

  constructor(status: number, problem: unknown) {
    super(problemMessage(problem, `Request failed (${status}).`));
    this.name = 'ApiError';
    this.status = status;
    this.problem = isProblem(problem) ? problem : undefined;
  }
}
