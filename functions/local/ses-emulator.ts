import { createServer, type Server } from 'node:http';
import sesModule from 'aws-ses-v2-local';
import { close, listen } from './listen';

// A CommonJS module with `exports.default`: depending on the loader, the default import is the
// function or the whole exports object.
type StartEmulator = typeof sesModule;
const startEmulator: StartEmulator =
  typeof sesModule === 'function' ? sesModule : (sesModule as unknown as { default: StartEmulator }).default;

export interface LocalSes {
  /** Web inbox at `/`, JSON at `/store`; also the SES endpoint. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * aws-ses-v2-local with its web inbox. It listens without handling errors (a port in use would
 * crash the process), so the port is tried first with a server of our own.
 */
export async function startSesEmulator(options: { port: number; setting: string }): Promise<LocalSes> {
  let port = options.port;
  const probe: Server = createServer();
  port = await listen(probe, port, options.setting);
  await close(probe);
  const server = (await startEmulator({ host: '127.0.0.1', port })) as Server;
  return { url: `http://127.0.0.1:${port}`, port, stop: () => close(server) };
}
