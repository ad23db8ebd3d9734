import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PushletterError } from '../commons/errors';

/**
 * Starts a server on 127.0.0.1 and resolves to the port it got. A port in use is an error
 * that names the port and the setting that moves it, instead of a stack trace.
 */
export function listen(server: Server, port: number, setting: string, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') {
        reject(
          new PushletterError(
            'PORT_IN_USE',
            `port ${port} is already in use (is another pushletter dev running?). Stop it, or pick another port with ${setting}=<port>.`,
          ),
        );
      } else if (error.code === 'EACCES') {
        reject(
          new PushletterError(
            'PORT_DENIED',
            `port ${port} needs privileges this user lacks; pick another with ${setting}=<port>.`,
          ),
        );
      } else {
        reject(error);
      }
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** Closes a server, dropping idle keep-alive connections so shutdown does not wait for them. */
export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections?.();
    // Requests still running get a moment; a stuck client must not hold the process open.
    setTimeout(() => server.closeAllConnections?.(), 2_000).unref();
  });
}
