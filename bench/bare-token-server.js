// The floor for the token bench: a bare node:http server doing the token endpoint's essential work for one
// client-credentials request, by hand, with the same library Latchkey signs with (jose): read the form, find
// the client, compare its secret in constant time, check the audience and grant, build the claims, sign RS256
// on the tenant-sized key, answer JSON with no-store. Usage: node bench/bare-token-server.js <port> <issuer>
import { createHash, generateKeyPairSync, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { importPKCS8, SignJWT } from 'jose';

const [port, issuer] = process.argv.slice(2);
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const key = await importPKCS8(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'RS256');
const digest = (s) => createHash('sha256').update(s).digest();
const clients = new Map([['bench-client', { secret: digest('bench-client-secret-0123456789') }]]);
const grants = new Map([['bench-client https://bench.example.com/', ['read:a', 'write:b']]]);

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    void (async () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      const client = clients.get(form.get('client_id') ?? '');
      const ok = client && timingSafeEqual(client.secret, digest(form.get('client_secret') ?? ''));
      const scope = ok ? grants.get(`bench-client ${form.get('audience') ?? ''}`) : undefined;
      if (form.get('grant_type') !== 'client_credentials' || !scope) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
        return;
      }
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({
        iss: issuer,
        sub: 'bench-client@clients',
        aud: form.get('audience') ?? '',
        iat: now,
        exp: now + 86_400,
        scope: scope.join(' '),
        gty: 'client-credentials',
        azp: 'bench-client',
        jti: randomUUID(),
      })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'k1' })
        .sign(key);
      const body = JSON.stringify({
        access_token: token,
        scope: scope.join(' '),
        expires_in: 86_400,
        token_type: 'Bearer',
      });
      res.writeHead(200, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        pragma: 'no-cache',
      });
      res.end(body);
    })();
  });
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
