/**
 * An error the simulated Proxmox API answers with: `{data: null, message: "…\n"}` and the
 * message as the HTTP reason phrase; 400 parameter errors add `errors`.
 */
export class PveError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: Record<string, string>,
  ) {
    super(message);
    this.name = 'PveError';
  }
}

/** 400 "Parameter verification failed." with one message per parameter. */
export function parameterError(errors: Record<string, string>): PveError {
  return new PveError(400, 'Parameter verification failed.', errors);
}

/** A bad request to the simulator itself (control API or programmatic state calls). */
export class SimInputError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'SimInputError';
  }
}
