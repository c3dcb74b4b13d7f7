/**
 * The checks on membership requests: node ids and peer addresses. The rules
 * are DKV_NODE_ID's and DKV_CLUSTER's (src/config.ts), so any member the API
 * accepts could also have been configured at start-up.
 */
import { invalidArgument } from '../errors.js';

/** A node id: 1 to 64 letters, digits, `.`, `_` or `-`. */
export const MEMBER_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** A gRPC address: a host name or IPv4 address, or an [IPv6] address, then `:port`. */
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/;

/** Throw INVALID_ARGUMENT unless `id` is a valid node id; `field` names it in the message. */
export function checkMemberId(id: string, field = 'id'): void {
  if (id === '') throw invalidArgument(`${field} must not be empty`);
  if (!MEMBER_ID.test(id)) {
    throw invalidArgument(
      `${field} ${JSON.stringify(id)} is not a valid node id: 1 to 64 letters, digits, '.', '_' or '-'`,
    );
  }
}

/** Throw INVALID_ARGUMENT unless `address` is host:port with a port from 1 to 65535. */
export function checkMemberAddress(address: string): void {
  if (address === '')
    throw invalidArgument('address must not be empty (host:port of the member gRPC endpoint)');
  const m = HOST_PORT.exec(address);
  if (!m) throw invalidArgument(`address ${JSON.stringify(address)} is not host:port`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) {
    throw invalidArgument(`address ${JSON.stringify(address)} has port ${m[2]}; it must be 1 to 65535`);
  }
}
