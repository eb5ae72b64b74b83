import 'reflect-metadata';
import {
  BasicConstraintsExtension,
  SubjectAlternativeNameExtension,
  X509CertificateGenerator,
} from '@peculiar/x509';
import { connect, type AddressInfo } from 'node:net';
import { webcrypto } from 'node:crypto';
import { createServer, type Server } from 'node:tls';

export interface TlsProxy {
  /** `127.0.0.1:PORT`, what Auth0 tools take as their domain. */
  readonly domain: string;
  /** The self-signed certificate the proxy presents (PEM), for NODE_EXTRA_CA_CERTS. */
  readonly certPem: string;
  /** Starts forwarding decrypted connections to a plain TCP port on 127.0.0.1. */
  forwardTo(port: number): void;
  close(): Promise<void>;
}

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A self-signed certificate for the IP address 127.0.0.1 (a trust anchor of its own). */
async function selfSignedForLoopback(): Promise<{ certPem: string; keyPem: string }> {
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '01',
      name: 'CN=127.0.0.1',
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 24 * 3600 * 1000),
      signingAlgorithm: EC,
      keys,
      extensions: [
        new BasicConstraintsExtension(true, undefined, true),
        new SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }]),
      ],
    },
    webcrypto,
  );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`;
  return { certPem: cert.toString('pem'), keyPem };
}

/**
 * A TLS-terminating TCP proxy on 127.0.0.1 for tools that only speak https (Auth0's Deploy CLI). It listens
 * first, so the app behind it can be built with the proxy's https URL as its issuer.
 */
export async function startTlsProxy(): Promise<TlsProxy> {
  const { certPem, keyPem } = await selfSignedForLoopback();
  let upstreamPort: number | undefined;
  const server: Server = createServer({ cert: certPem, key: keyPem }, (socket) => {
    if (upstreamPort === undefined) {
      socket.destroy();
      return;
    }
    const upstream = connect(upstreamPort, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    const end = () => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    domain: `127.0.0.1:${port}`,
    certPem,
    forwardTo(p) {
      upstreamPort = p;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => {
          if (err) reject(err);
          else resolve();
        });
      }),
  };
}
