/**
 * The sign-in limits, kept in the database (`store.signInLimits`) so every replica enforces the
 * same ones and a restart forgets nothing (DESIGN §8). Two limits apply to every attempt:
 *
 * - per account and client address (`email` in any letter case + address): a few failures, then
 *   that account is refused from that address until the window ends; a success clears it;
 * - per client address alone: more failures, across every email, then the address is refused
 *   until the window ends. A success does not clear it (one valid account must not reset the
 *   count of guesses against others). An IPv6 address counts by its /64, which one client
 *   usually holds entirely.
 *
 * A refused attempt never reaches the password hash.
 */
import { isIPv4, isIPv6 } from "node:net";
import type { SignInLimit, SignInLimitStore } from "../store/contract.ts";

export interface RateLimitOptions {
  maxFailures: number;
  windowMs: number;
}

export interface SignInLimitOptions {
  /** Per email + client address; default 5 per 15 minutes. */
  account: RateLimitOptions;
  /** Per client address, whatever the email; default 20 per 15 minutes. */
  address: RateLimitOptions;
}

export const DEFAULT_SIGNIN_LIMITS: SignInLimitOptions = {
  account: { maxFailures: 5, windowMs: 15 * 60 * 1000 },
  address: { maxFailures: 20, windowMs: 15 * 60 * 1000 },
};

export class LoginRateLimiter {
  readonly #store: SignInLimitStore;
  readonly #options: SignInLimitOptions;

  constructor(store: SignInLimitStore, options: SignInLimitOptions = DEFAULT_SIGNIN_LIMITS) {
    this.#store = store;
    this.#options = options;
  }

  /** Milliseconds until `email` may try again from `address`; 0 when it may try now. */
  blockedFor(email: string, address: string): Promise<number> {
    return this.#store.blockedFor(this.#limits(email, address));
  }

  fail(email: string, address: string): Promise<void> {
    return this.#store.fail(this.#limits(email, address));
  }

  /** Clears the account's failures from this address (not the address's own count). */
  succeed(email: string, address: string): Promise<void> {
    return this.#store.clear(accountKey(email, address));
  }

  #limits(email: string, address: string): SignInLimit[] {
    return [
      { key: accountKey(email, address), ...this.#options.account },
      { key: addressKey(address), ...this.#options.address },
    ];
  }
}

function accountKey(email: string, address: string): string {
  return `account\n${email.trim().toLowerCase()}\n${clientNetwork(address)}`;
}

function addressKey(address: string): string {
  return `address\n${clientNetwork(address)}`;
}

/**
 * What one client is: an IPv4 address (also when IPv4-mapped), an IPv6 address's /64, or the
 * given string as it is (a `clientIp` that is not an address).
 */
export function clientNetwork(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped !== undefined && isIPv4(mapped)) return mapped;
  if (!isIPv6(address)) return address;
  const [head = "", tail = ""] = address.toLowerCase().split("%")[0]?.split("::") ?? [];
  const left = head === "" ? [] : head.split(":");
  const right = tail === "" ? [] : tail.split(":");
  const groups = address.includes("::")
    ? [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}
