import { createDpopNonces, type DpopNonces } from '../oauth/dpop/nonce.js';
import { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import type { SigningKey } from '../domain/signing-key.js';
import { generateSigningKey } from '../keys/generate.js';
import { Keystore } from '../keys/keystore.js';
import { createJwtSigner, type JwtSigner } from '../keys/signer.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { randomIds, type Ids } from '../lib/ids.js';
import { createSecretBox } from '../lib/secret-box.js';
import type { Storage } from '../storage/db.js';
import { createStore, type Store } from '../storage/repositories/index.js';
import { DEFAULT_TENANT_ID } from '../domain/tenant.js';
import { PASSWORD_CHECK_FLOOR_MS } from '../users/authenticate.js';
import { createInvalidation, type Invalidation } from './invalidation.js';
import {
  createFailureLimiter,
  FAILED_AUTH_PER_ADDRESS,
  FAILED_LOGINS_PER_ADDRESS,
  FAILED_LOGINS_PER_IDENTIFIER,
  FAILED_SECOND_FACTORS_PER_USER,
  type FailureLimit,
  type FailureLimiter,
} from './failed-auth-limit.js';
import { createLookups, type Lookups } from './lookups.js';
import { createRedisOneTimeStore, createSqlOneTimeStore, type OneTimeStore } from './one-time-store.js';
import { createUserReads, type UserReads } from './user-reads.js';
import { createVerifiedTokens, type VerifiedTokens } from './verified-tokens.js';
import { createEventRecorder, type EventRecorder } from '../logs/recorder.js';
import { createStreamDelivery, type StreamDelivery } from '../logs/streams.js';
import { createTickets, type Tickets } from '../users/tickets.js';
import { createMailSender, type MailLog, type MailSender } from '../mail/sender.js';
import { createSmsSender, type SmsSender } from '../sms/sender.js';

export interface Deps {
  readonly config: Config;
  readonly tenantId: string;
  readonly storage: Storage;
  readonly store: Store;
  readonly keystore: Keystore;
  readonly signer: JwtSigner;
  readonly lookups: Lookups;
  /** Each user and their passkeys, as My Account requests read them; forgotten on every write (invalidation). */
  readonly userReads: UserReads;
  /** Access tokens this node verified, until they expire or their key is revoked. */
  readonly verifiedTokens: VerifiedTokens;
  /** Failed authentications per client address, shared through Redis when configured. */
  readonly failedAuth: FailureLimiter;
  /** Password sign-in attempts per address and per login name, shared through Redis when configured. */
  readonly failedLogins: { readonly perAddress: FailureLimiter; readonly perIdentifier: FailureLimiter };
  /** Every password sign-in answers no sooner than this (users/authenticate.ts). */
  readonly passwordCheckFloorMs: number;
  readonly clock: Clock;
  readonly ids: Ids;
  /** Generates a signing key for this tenant (tests inject pre-made keys: RSA generation is slow). */
  readonly generateKey: (state: 'current' | 'next') => Promise<SigningKey>;
  /** Codes, challenges and jtis that may be used once: Redis when configured, SQL otherwise. */
  readonly oneTime: OneTimeStore;
  /** Shared ephemeral state when LATCHKEY_REDIS_URL is set. */
  readonly redis: Redis | undefined;
  /** Prefix of every Redis key and channel of this tenant's nodes (`latchkey:{tenant}:` by default). */
  readonly redisNamespace: string;
  /** Clears cached configuration here and on every other node (through Redis when configured). */
  readonly invalidation: Invalidation;
  /** Management API requests per second per calling client. */
  readonly managementRateLimit: number;
  /** Tenant log events (Auth0's logs): every login, token exchange, failure and Management write. */
  readonly events: EventRecorder;
  /** Posts each stored batch of events to the tenant's active HTTP log streams. */
  readonly streamDelivery: StreamDelivery;
  /** Outgoing email: SMTP when LATCHKEY_SMTP_URL is set, the app's log otherwise. */
  readonly mail: MailSender;
  /** Outgoing text messages: the HTTP gateway of LATCHKEY_SMS_URL when set, the app's log otherwise. */
  readonly sms: SmsSender;
  /** Wrong second-factor codes per user (every node together through Redis): the throttle of issue 12. */
  readonly failedSecondFactors: FailureLimiter;
  /** Password-change and email-verification tickets, single-use, in the one-time store. */
  readonly tickets: Tickets;
  /** RFC 9449 §8 server nonces, stateless: every node sharing LATCHKEY_SECRET agrees on them. */
  readonly dpopNonces: DpopNonces;
  /** Releases what the deps opened (Redis); storage is closed by its owner. */
  close(): Promise<void>;
}

export interface DepsOverrides {
  /** The tenant this node serves (one per process today; tests run two side by side). */
  readonly tenantId?: string;
  readonly clock?: Clock;
  readonly ids?: Ids;
  readonly generateKey?: Deps['generateKey'];
  readonly managementRateLimit?: number;
  readonly failedAuthLimit?: FailureLimit;
  readonly failedLoginLimits?: { readonly perAddress?: FailureLimit; readonly perIdentifier?: FailureLimit };
  /** Tests that do not measure timing run without the floor. */
  readonly passwordCheckFloorMs?: number;
  /** Keeps deployments (or test apps) that share one Redis apart. */
  readonly redisNamespace?: string;
  /** How long a user search may run (Auth0: 2 s); tests shorten it to reach the timeout. */
  readonly searchTimeoutMs?: number;
  /** Where the event recorder reports storage trouble (the app's logger once it exists). */
  readonly warn?: (message: string, detail?: Record<string, unknown>) => void;
  /** Waits before each log stream delivery retry (1 s, 4 s, 16 s by default); tests shorten them. */
  readonly logStreamRetryDelaysMs?: readonly number[];
  /** Replaces the sender configured by `config.sms`. */
  readonly sms?: SmsSender;
  /** Replaces the sender configured by `config.mail`. */
  readonly mail?: MailSender;
  /** Where the log mail sender writes (the app's logger once it exists). */
  readonly info?: MailLog;
}

/** Requests per second per calling client (per node, or across nodes with Redis). */
export const MANAGEMENT_RATE_LIMIT = 5_000;

export function createDeps(config: Config, storage: Storage, overrides: DepsOverrides = {}): Deps {
  const clock = overrides.clock ?? systemClock;
  const tenantId = overrides.tenantId ?? DEFAULT_TENANT_ID;
  const store = createStore(
    storage,
    tenantId,
    createSecretBox(config.secret),
    overrides.searchTimeoutMs === undefined ? {} : { searchTimeoutMs: overrides.searchTimeoutMs },
  );
  // No offline queue: with Redis down, commands fail at once and callers apply their fail-open/closed rule.
  const redis =
    config.redisUrl === undefined
      ? undefined
      : new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redis?.on('error', () => undefined);
  const keystore = new Keystore(
    () => store.signingKeys.list(),
    () => clock.now(),
  );
  const signer = createJwtSigner(keystore);
  const lookups = createLookups(store, () => clock.now());
  const userReads = createUserReads(store, () => clock.now());
  const warn =
    overrides.warn ??
    ((message: string, detail?: Record<string, unknown>) => {
      process.emitWarning(`${message} ${JSON.stringify(detail ?? {})}`);
    });
  const streamDelivery = createStreamDelivery({
    load: () => store.logStreams.list(),
    now: () => clock.now(),
    warn,
    ...(overrides.logStreamRetryDelaysMs === undefined
      ? {}
      : { retryDelaysMs: overrides.logStreamRetryDelaysMs }),
  });
  const verifiedTokens = createVerifiedTokens(config.issuer, keystore, () => clock.now());
  // Tenants sharing one Redis never see each other's counters, one-time values or invalidations.
  const redisNamespace = overrides.redisNamespace ?? `latchkey:${tenantId}:`;
  const invalidation = createInvalidation(
    redis,
    (what) => {
      if (typeof what === 'object') {
        userReads.forget(what.user, what.part);
        return;
      }
      lookups.invalidate();
      // Configuration writes are rare and some change users wholesale (deleting a connection deletes its users).
      userReads.forgetAll();
      streamDelivery.invalidate();
      // Tokens of a revoked key are refused once the reload drops the key; forgetting them all is cheap.
      if (what === 'keys') {
        void keystore
          .reload()
          .then(() => {
            verifiedTokens.clear();
          })
          .catch(() => undefined);
      }
    },
    `${redisNamespace}invalidate`,
  );
  const failedAuth = createFailureLimiter({
    limit: overrides.failedAuthLimit ?? FAILED_AUTH_PER_ADDRESS,
    now: () => clock.now(),
    redis,
    prefix: `${redisNamespace}fail:`,
  });
  const loginLimiter = (limit: FailureLimit, kind: string) =>
    createFailureLimiter({ limit, now: () => clock.now(), redis, prefix: `${redisNamespace}${kind}:` });
  const failedLogins = {
    perAddress: loginLimiter(
      overrides.failedLoginLimits?.perAddress ?? FAILED_LOGINS_PER_ADDRESS,
      'login-address',
    ),
    perIdentifier: loginLimiter(
      overrides.failedLoginLimits?.perIdentifier ?? FAILED_LOGINS_PER_IDENTIFIER,
      'login-identifier',
    ),
  };
  const events = createEventRecorder({
    sink: store.logs,
    now: () => clock.now(),
    retentionMs: config.server.logRetentionDays * 86_400_000,
    warn,
  });
  events.onStored((batch) => {
    streamDelivery.deliver(batch);
  });
  const info =
    overrides.info ??
    ((message: string, detail: Record<string, unknown>) => {
      process.stdout.write(`${JSON.stringify({ level: 'info', msg: message, ...detail })}\n`);
    });
  const oneTime = redis
    ? createRedisOneTimeStore(redis, `${redisNamespace}once:`)
    : createSqlOneTimeStore(store.oneTimeValues, () => Math.floor(clock.now() / 1000));
  return {
    config,
    tenantId,
    tickets: createTickets({ oneTime, now: () => clock.now(), secret: config.secret }),
    dpopNonces: createDpopNonces(`${config.secret}:${tenantId}`, () => Math.floor(clock.now() / 1000)),
    events,
    mail: overrides.mail ?? createMailSender(config.mail, info),
    sms: overrides.sms ?? createSmsSender(config.sms, info),
    failedSecondFactors: loginLimiter(FAILED_SECOND_FACTORS_PER_USER, 'mfa-user'),
    streamDelivery,
    storage,
    store,
    keystore,
    signer,
    lookups,
    userReads,
    oneTime,
    verifiedTokens,
    failedAuth,
    failedLogins,
    passwordCheckFloorMs: overrides.passwordCheckFloorMs ?? PASSWORD_CHECK_FLOOR_MS,
    invalidation,
    clock,
    ids: overrides.ids ?? randomIds,
    redis,
    redisNamespace,
    managementRateLimit: overrides.managementRateLimit ?? MANAGEMENT_RATE_LIMIT,
    async close() {
      await events.close();
      // After the recorder: its last batches are delivered (or given up) before the process goes.
      await streamDelivery.close();
      await invalidation.close();
      if (redis) await redis.quit().catch(() => undefined);
    },
    generateKey:
      overrides.generateKey ??
      ((state) => generateSigningKey({ tenantId, issuer: config.issuer, state, now: new Date(clock.now()) })),
  };
}
