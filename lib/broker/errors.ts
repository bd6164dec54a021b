/** Errors every transport raises the same way, so callers can tell them apart from bugs. */

/** An operation was attempted on a broker after close(). */
export class BrokerClosedError extends Error {
  readonly code = "broker_closed";
  constructor(operation: string) {
    super(`broker is closed (${operation})`);
    this.name = "BrokerClosedError";
  }
}
