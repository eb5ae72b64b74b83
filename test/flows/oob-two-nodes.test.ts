import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { bootstrapTenant } from '../../src/bootstrap/service.js';
import { DEFAULT_SERVER_SETTINGS, type Config } from '../../src/config/schema.js';
import { createDeps, type Deps } from '../../src/server/deps.js';
import { createStorage, dropSchema, type Storage } from '../../src/storage/db.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import {
  BOOTSTRAP_CLIENT_ID,
  BOOTSTRAP_CLIENT_SECRET,
  MGMT_AUDIENCE,
  TEST_ISSUER,
  UNLIMITED_FAILURES,
  type TestApp,
} from '../helpers/build-test-app.js';
import type { FakeClock } from '../helpers/fake-clock.js';
import { api, clientCredentials } from '../helpers/http.js';
import { me, myAccountFixture, type MyAccountFixture } from '../helpers/myaccount.js';
import { codeIn, startTestSmsGateway, type TestSmsGateway } from '../helpers/sms.js';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { createTestKeyGenerator } from '../helpers/test-keys.js';

const pgUrl = process.env['LATCHKEY_TEST_POSTGRES_URL'];
const redisUrl = process.env['LATCHKEY_TEST_REDIS_URL'];
const otherThan = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

// Two nodes of one deployment (one PostgreSQL schema, one Redis namespace), on the real clock.
describe.skipIf(!pgUrl || !redisUrl)(
  'email and phone codes on two nodes sharing PostgreSQL and Redis',
  () => {
    const schema = `o_${randomBytes(6).toString('hex')}`;
    const redisNamespace = `latchkey-test:${schema}:`;
    const storages: Storage[] = [];
    const nodes: { app: FastifyInstance; deps: Deps }[] = [];
    let f: MyAccountFixture;
    let smtp: TestSmtpServer;
    let gateway: TestSmsGateway;
    let n = 0;

    /** The parts of a TestApp the My Account fixture uses, over a node on the real clock. */
    const asTestApp = (x: { app: FastifyInstance; deps: Deps }): TestApp => {
      const token = async (scope?: string) =>
        (
          await clientCredentials(
            x.app,
            { clientId: BOOTSTRAP_CLIENT_ID, clientSecret: BOOTSTRAP_CLIENT_SECRET },
            MGMT_AUDIENCE,
            scope === undefined ? {} : { scope },
          )
        ).json<{ access_token: string }>().access_token;
      return {
        app: x.app,
        issuer: x.deps.config.issuer,
        deps: x.deps,
        clock: x.deps.clock as FakeClock,
        managementToken: () => token(),
        managementTokenWith: (scopes) => token(scopes.join(' ')),
        close: () => Promise.resolve(),
      };
    };
    const node = (i: number): TestApp => {
      const x = nodes[i];
      if (!x) throw new Error('node missing');
      return asTestApp(x);
    };

    beforeAll(async () => {
      smtp = await startTestSmtpServer();
      gateway = await startTestSmsGateway();
      const config: Config = Object.freeze({
        port: 0,
        host: '127.0.0.1',
        issuer: TEST_ISSUER,
        databaseUrl: pgUrl ?? '',
        redisUrl,
        secret: 'two-nodes-secret-two-nodes-secret-000',
        bootstrapClientId: BOOTSTRAP_CLIENT_ID,
        bootstrapClientSecret: BOOTSTRAP_CLIENT_SECRET,
        logLevel: 'silent',
        trustProxy: false,
        server: { ...DEFAULT_SERVER_SETTINGS, myAccountRateLimit: 1_000_000 },
        mail: { smtpUrl: smtp.url, from: 'Latchkey <no-reply@latchkey.test>' },
        sms: { url: gateway.url, token: undefined },
      });
      for (let i = 0; i < 2; i++) {
        const storage = await createStorage(pgUrl ?? '', { schema });
        storages.push(storage);
        await migrateToLatest(storage);
        const deps = createDeps(config, storage, {
          generateKey: createTestKeyGenerator(() => Date.now()),
          failedAuthLimit: UNLIMITED_FAILURES,
          failedLoginLimits: { perAddress: UNLIMITED_FAILURES, perIdentifier: UNLIMITED_FAILURES },
          passwordCheckFloorMs: 0,
          redisNamespace,
        });
        await bootstrapTenant(
          {
            tenantId: deps.tenantId,
            issuer: TEST_ISSUER,
            bootstrapClientId: BOOTSTRAP_CLIENT_ID,
            bootstrapClientSecret: BOOTSTRAP_CLIENT_SECRET,
          },
          deps,
        );
        nodes.push({ app: await buildApp(deps), deps });
      }
      f = await myAccountFixture(node(0));
      await f.activate();
      for (const factor of ['email', 'sms']) {
        const res = await api(node(0).app, {
          method: 'PUT',
          url: `/api/v2/guardian/factors/${factor}`,
          token: await node(0).managementToken(),
          body: { enabled: true },
        });
        expect(res.statusCode).toBe(200);
      }
    });
    afterAll(async () => {
      for (const x of nodes) {
        await x.app.close();
        await x.deps.close();
      }
      for (const s of storages) await s.close();
      await dropSchema(pgUrl ?? '', schema);
      await smtp.close();
      await gateway.close();
    });

    const newEmail = () => `two.${String(++n)}@mail.example`;
    const newPhone = () => `+4420${String(71_000_000 + ++n)}`;

    /** Starts an email enrolment on node `i`; its id, auth_session and the code that was mailed. */
    async function startEmail(i: number, token: string) {
      const email = newEmail();
      const res = await me(node(i), 'POST', '/authentication-methods', token, { type: 'email', email });
      expect(res.statusCode).toBe(202);
      const mail = await smtp.waitFor((m) => m.to === email);
      return { ...res.json<{ id: string; auth_session: string }>(), code: codeIn(mail.text) };
    }
    const verifyOn = (i: number, token: string, id: string, body: Record<string, unknown>) =>
      me(node(i), 'POST', `/authentication-methods/${encodeURIComponent(id)}/verify`, token, body);

    it('verifies on node B an email enrolment started on node A, once', async () => {
      const token = await f.tokenFor(await f.make.user());
      const started = await startEmail(0, token);
      const body = { auth_session: started.auth_session, otp_code: started.code };
      const verified = await verifyOn(1, token, started.id, body);
      expect(verified.statusCode).toBe(201);
      expect((await verifyOn(0, token, started.id, body)).statusCode).toBe(400);
    });

    it('throttles a user on both nodes once ten wrong codes were typed across them', async () => {
      const token = await f.tokenFor(await f.make.user());
      for (const i of [0, 1]) {
        const started = await startEmail(i, token);
        for (let k = 0; k < 5; k += 1) {
          const res = await verifyOn(i, token, started.id, {
            auth_session: started.auth_session,
            otp_code: otherThan(started.code),
          });
          expect(res.statusCode).toBe(400);
        }
      }
      for (const i of [0, 1]) {
        const started = await startEmail(i, token);
        const res = await verifyOn(1 - i, token, started.id, {
          auth_session: started.auth_session,
          otp_code: started.code,
        });
        expect(res.statusCode).toBe(429);
      }
    });

    it('shows on node B a phone channel changed on node A (the user cache follows the write)', async () => {
      const token = await f.tokenFor(await f.make.user());
      const phone = newPhone();
      const res = await me(node(0), 'POST', '/authentication-methods', token, {
        type: 'phone',
        phone_number: phone,
      });
      const { id, auth_session } = res.json<{ id: string; auth_session: string }>();
      const sms = await gateway.waitFor((m) => m.to === phone);
      expect((await verifyOn(1, token, id, { auth_session, otp_code: codeIn(sms.body) })).statusCode).toBe(
        201,
      );
      const channelOnB = async () =>
        (await me(node(1), 'GET', '/authentication-methods?type=phone', token))
          .json<{ authentication_methods: { preferred_authentication_method: string }[] }>()
          .authentication_methods.map((m) => m.preferred_authentication_method);
      expect(await channelOnB()).toEqual(['sms']);
      const patched = await me(node(0), 'PATCH', `/authentication-methods/${encodeURIComponent(id)}`, token, {
        preferred_authentication_method: 'voice',
      });
      expect(patched.statusCode).toBe(200);
      // Long enough for a pub/sub message on this host, far shorter than the cache entries' lifetime.
      await new Promise((r) => setTimeout(r, 100));
      expect(await channelOnB()).toEqual(['voice']);
    });
  },
);
