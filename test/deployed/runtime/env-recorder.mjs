/**
 * Preloaded (`node --import`) into every function process the deployed-shape suite starts.
 * It replaces process.env with a proxy that notes each read of a variable made from the
 * project's own sources (found through the bundle's source map), so the suite can compare
 * what the code reads with what the template sets, without a list kept by hand.
 * It also refuses any connection to an address other than loopback: the stand-ins are the
 * only AWS these processes may reach.
 */
import { findSourceMap } from 'node:module';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const reads = new Map();
globalThis.__pushletterEnvReads = reads;

function callSites() {
  const previous = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  Error.prepareStackTrace = (_error, sites) => sites;
  Error.stackTraceLimit = 12;
  const holder = {};
  Error.captureStackTrace(holder, callSites);
  const sites = holder.stack;
  Error.prepareStackTrace = previous;
  Error.stackTraceLimit = limit;
  return Array.isArray(sites) ? sites : [];
}

/**
 * Where the code that reads a variable was written, when that code is in the function's
 * bundle (the SDK, external to the bundle, reads its own AWS_* settings and is left out).
 */
function readerOrigin() {
  // [0] this function, [1] the proxy's trap, [2] the code that read process.env.
  const site = callSites()[2];
  const file = site?.getFileName();
  if (!file || !file.endsWith('/index.mjs')) return undefined;
  const path = file.startsWith('file:') ? fileURLToPath(file) : file;
  const entry = findSourceMap(path)?.findEntry(site.getLineNumber() - 1, site.getColumnNumber() - 1);
  if (!entry?.originalSource) return undefined;
  return { source: fileURLToPath(entry.originalSource), line: entry.originalLine + 1 };
}

const realEnv = process.env;
process.env = new Proxy(realEnv, {
  get(target, key) {
    if (typeof key === 'string') {
      const origin = reads.has(key) ? undefined : readerOrigin();
      if (origin && !origin.source.includes('/node_modules/')) reads.set(key, origin);
    }
    return Reflect.get(target, key);
  },
});

const loopback = new Set(['127.0.0.1', 'localhost', '::1']);
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const options =
    typeof args[0] === 'object' && args[0] !== null
      ? Array.isArray(args[0])
        ? args[0][0]
        : args[0]
      : { host: args[1] };
  const host = options?.host ?? 'localhost';
  if (options?.path === undefined && !loopback.has(host)) {
    throw new Error(`deployed-shape suite: refused a connection to ${host}; only the local stand-ins may be reached`);
  }
  return connect.apply(this, args);
};
