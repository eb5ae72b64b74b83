import { connect, type Socket } from 'node:net';

export interface RawConnection {
  readonly socket: Socket;
  /** Everything the server sent so far, as text. */
  received(): string;
  /** Milliseconds from opening the connection until it closed. */
  readonly closedAfter: Promise<number>;
}

/** A plain TCP connection, for what an HTTP client library would hide: slow writes, idle sockets. */
export function openRaw(port: number): Promise<RawConnection> {
  const started = Date.now();
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
  });
  const closedAfter = new Promise<number>((resolve) => {
    socket.on('close', () => {
      resolve(Date.now() - started);
    });
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.on('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => undefined);
      resolve({ socket, received: () => received, closedAfter });
    });
  });
}
