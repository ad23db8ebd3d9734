import { createHmac, hkdfSync } from 'node:crypto';
import { ConfigError } from '../commons/errors';

/**
 * Every secret the subscriber module needs, derived from one master key (the `tokenKey` of the
 * secrets file or the Secrets Manager secret) with HKDF, so rotating one value rotates all and
 * a leak of one derived key (say, the IP hashing key) reveals nothing about the others.
 */
export interface SubscriberKeys {
  /** Signs confirm and unsubscribe tokens. */
  tokenKey: Buffer;
  /** Turns a normalised address into its subscriber id. */
  idKey: Buffer;
  /** Salts the hash of a signup's IP address in the consent record. */
  ipKey: Buffer;
  /** Signs the click redirect and open pixel URLs of aggregate tracking (stats/tracked-links.ts). */
  linkKey: Buffer;
}

function derive(master: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `pushletter/${purpose}/v1`, 32));
}

export function deriveKeys(master: Buffer): SubscriberKeys {
  if (master.length < 16) {
    throw new ConfigError(
      'the token master key must be at least 16 random bytes (base64 in the secrets file); generate one with `openssl rand -base64 32`',
    );
  }
  return {
    tokenKey: derive(master, 'tokens'),
    idKey: derive(master, 'subscriber-ids'),
    ipKey: derive(master, 'ip-hash'),
    linkKey: derive(master, 'link-signatures'),
  };
}

/** 16 bytes (128 bits) keep ids short in URLs while collisions stay out of reach. */
export const SUBSCRIBER_ID_BYTES = 16;
const SUBSCRIBER_ID = /^[A-Za-z0-9_-]{22}$/;

/**
 * The id of a subscriber: a keyed hash of the normalised address. The same address always maps
 * to the same item (no duplicates, lookup by address is one GetItem), and without the key an
 * id cannot be linked back to an address.
 */
export function subscriberId(idKey: Buffer, normalisedAddress: string): string {
  return createHmac('sha256', idKey)
    .update(normalisedAddress, 'utf8')
    .digest()
    .subarray(0, SUBSCRIBER_ID_BYTES)
    .toString('base64url');
}

/** Shape check for ids arriving from outside (cursors, CLI): 22 canonical base64url characters. */
export function isSubscriberId(value: unknown): value is string {
  if (typeof value !== 'string' || !SUBSCRIBER_ID.test(value)) return false;
  // Node decodes base64 leniently; only the canonical spelling of 16 bytes is an id.
  return Buffer.from(value, 'base64url').toString('base64url') === value;
}

/** Salted hash of a client IP for the consent record: proves a signup came from somewhere without storing where. */
export function hashIp(ipKey: Buffer, ip: string): string {
  return createHmac('sha256', ipKey)
    .update(ip.trim().toLowerCase(), 'utf8')
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}
