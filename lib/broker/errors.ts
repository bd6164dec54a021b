/** Errors every transport raises the same way, so callers can tell them apart from bugs. */

/** An operation was attempted on a broker after close(). */
export class BrokerClosedError extends Error {
  readonly code = "broker_closed";
  constructor(operation: string) {
    super(`broker is closed (${operation})`);
    this.name = "BrokerClosedError";
  }
}

/**
 * The broker is not connected right now (it is reconnecting). Raised instead of queueing a
 * command that must not run late: a control broadcast sent during an outage would otherwise
 * reach workers whenever Redis came back, long after its caller gave up.
 */
export class BrokerUnavailableError extends Error {
  readonly code = "broker_unavailable";
  constructor(operation: string, status: string) {
    super(`broker is not connected (${status}): ${operation} not sent`);
    this.name = "BrokerUnavailableError";
  }
}

/**
 * connect() could not reach the broker (refused, unresolvable host, timeout, connection dropped
 * before it was ready). Worth retrying: the broker may simply not be up yet. A broker that
 * answered with an error (a wrong password, say) raises that error instead.
 */
export class BrokerConnectError extends Error {
  readonly code = "broker_unreachable";
  constructor(url: string, cause: string) {
    super(`cannot connect to ${url}: ${cause}`);
    this.name = "BrokerConnectError";
  }
}
