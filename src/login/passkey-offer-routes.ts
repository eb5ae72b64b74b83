import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Passkey } from '../domain/passkey.js';
import type { PasskeyOfferStep } from '../oauth/authorize/transaction.js';
import { formActionSource } from '../oauth/authorize/respond.js';
import { userHandleOf } from '../myaccount/service.js';
import { assetUrl } from '../pages/assets.js';
import { DEFAULT_TENANT_NAME } from '../pages/look.js';
import { message } from '../pages/messages.js';
import { sendPage } from '../pages/render.js';
import type { Deps } from '../server/deps.js';
import { isUniqueViolation } from '../storage/json.js';
import { RegistrationRefused, verifyPasskeyRegistration } from '../webauthn/registration.js';
import { field, isRecord, type HostedPages, type Opened } from './hosted.js';
import { PASSWORD_AMR } from './mfa-step.js';
import { postedCredential, type HostedPasskeys } from './passkeys.js';

/**
 * The passkey offer (`/u/passkey-offer`), the step of the login transaction after a password sign-in when the
 * connection enrols progressively and the user has no passkey: "Create a passkey" verifies the browser's new
 * credential as My Account does and stores it, "Not now" does not; either then finishes the authorization,
 * once (the transaction is taken before anything is stored).
 */
export const passkeyOfferRoutes: FastifyPluginAsync<{
  deps: Deps;
  hosted: HostedPages;
  passkeys: HostedPasskeys;
}> = async (app, { deps, hosted, passkeys }) => {
  const { flow, paths } = hosted;

  /** The transaction named by `state` when it is at the offer, with its step and client. */
  const open = async (state: unknown): Promise<(Opened & { step: PasskeyOfferStep }) | undefined> => {
    if (typeof state !== 'string' || state === '') return undefined;
    const tx = await flow.transactions.peek(state);
    if (!tx?.passkeyOffer) return undefined;
    const client = await deps.lookups.client(tx.request.clientId);
    return client ? { tx, client, step: tx.passkeyOffer } : undefined;
  };

  const page = (reply: FastifyReply, opened: Opened & { step: PasskeyOfferStep }, error?: string) => {
    const tenant = reply.request.pageLook?.tenantName ?? DEFAULT_TENANT_NAME;
    return sendPage(
      reply.status(error === undefined ? 200 : 400),
      'passkey-offer',
      {
        issuer: deps.config.issuer,
        action: paths.passkeyOffer,
        state: opened.tx.id,
        csrf: opened.tx.csrf,
        options: JSON.stringify(opened.step.options),
        error,
        library: assetUrl(paths.assets, 'simplewebauthn-browser.js'),
        script: assetUrl(paths.assets, 'passkey-offer.js'),
        t: {
          title: message('passkey_offer.title'),
          subtitle: message('passkey_offer.subtitle', { tenant }),
          create: message('passkey_offer.create'),
          skip: message('passkey_offer.skip'),
          cancelled: message('passkey_offer.cancelled'),
        },
      },
      {
        formAction: formActionSource(opened.tx.request.redirectUri),
        keepOpener: opened.tx.request.responseMode === 'web_message',
      },
    );
  };

  app.get('/u/passkey-offer', { schema: { hide: true } }, async (req, reply) => {
    const opened = await open((req.query as Record<string, unknown>)['state']);
    if (!opened) return flow.pageError(reply, 400, 'error.transaction_expired');
    return page(reply, opened);
  });

  app.post('/u/passkey-offer', { schema: { hide: true }, bodyLimit: 16 * 1024 }, async (req, reply) => {
    const body = isRecord(req.body) ? req.body : {};
    const opened = await open(body['state']);
    if (!opened) return flow.pageError(reply, 400, 'error.transaction_expired');
    if (!hosted.genuine(req, opened.tx, body)) return flow.pageError(reply, 403, 'error.csrf');
    // The user may have been blocked or removed since the password sign-in.
    const user = await deps.store.users.findById(opened.step.userId);
    if (!user || user.blocked) return flow.pageError(reply, 400, 'login.blocked');
    const choice = field(body, 'choice');
    // A second factor may have come before the offer: the session records it.
    const auth = { amr: opened.step.amr ?? PASSWORD_AMR };
    if (choice === 'skip') return hosted.signedIn(req, reply, opened, user, undefined, auth);
    if (choice !== 'create') return page(reply, opened, message('passkey_offer.failed'));

    const response = postedCredential(body, 'passkey_response');
    let credential;
    try {
      if (response === undefined) throw new RegistrationRefused('no response');
      credential = await verifyPasskeyRegistration(response, {
        challenge: opened.step.options.challenge,
        origins: [passkeys.rp.origin],
        rpId: passkeys.rp.id,
        requireUserVerification: true,
      });
    } catch (error) {
      if (!(error instanceof RegistrationRefused)) throw error;
      return page(reply, opened, message('passkey_offer.failed'));
    }
    if (await deps.store.passkeys.findByCredentialId(credential.credentialId)) {
      return page(reply, opened, message('passkey_offer.failed'));
    }
    const passkey: Passkey = {
      ...credential,
      userId: user.userId,
      userHandle: userHandleOf(user.userId),
      name: undefined,
      userAgent: req.headers['user-agent']?.slice(0, 512),
      createdAt: new Date(deps.clock.now()).toISOString(),
      lastUsedAt: undefined,
    };
    // Stored only by the request that takes the transaction, so a replayed form enrols nothing more.
    return hosted.signedIn(
      req,
      reply,
      opened,
      user,
      async () => {
        try {
          await deps.store.passkeys.insert(passkey);
          deps.invalidation.userChanged(user.userId, 'passkeys');
        } catch (error) {
          // The same credential enrolled meanwhile (another tab): the sign-in goes on without a second copy.
          if (!isUniqueViolation(error)) throw error;
        }
      },
      auth,
    );
  });
};
