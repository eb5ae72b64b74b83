import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { User } from '../../domain/user.js';
import { ownIdentity } from '../../domain/user.js';
import { BadRequest, NotFound } from '../../errors/api.js';
import { randomAlphanumeric } from '../../lib/ids.js';
import type { Deps } from '../../server/deps.js';
import {
  emailVerificationLink,
  passwordChangeLink,
  sendVerificationEmail,
} from '../../users/account-links.js';
import { DEFAULT_TICKET_TTL_SECONDS, MAX_TICKET_TTL_SECONDS } from '../../users/tickets.js';
import { requireScope } from '../auth.js';

const Url = Type.String({ minLength: 1, maxLength: 2000, pattern: '^https?://' });
const Ttl = Type.Integer({ minimum: 0, maximum: MAX_TICKET_TTL_SECONDS });
const Id = Type.String({ minLength: 1, maxLength: 300 });

const PasswordChangeBody = Type.Object(
  {
    result_url: Type.Optional(Url),
    user_id: Type.Optional(Id),
    client_id: Type.Optional(Id),
    organization_id: Type.Optional(Id),
    connection_id: Type.Optional(Id),
    email: Type.Optional(Type.String({ minLength: 1, maxLength: 320 })),
    ttl_sec: Type.Optional(Ttl),
    mark_email_as_verified: Type.Optional(Type.Boolean()),
    includeEmailInRedirect: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const EmailVerificationBody = Type.Object(
  {
    user_id: Id,
    result_url: Type.Optional(Url),
    client_id: Type.Optional(Id),
    organization_id: Type.Optional(Id),
    ttl_sec: Type.Optional(Ttl),
    includeEmailInRedirect: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const VerificationJobBody = Type.Object(
  {
    user_id: Id,
    client_id: Type.Optional(Id),
    organization_id: Type.Optional(Id),
  },
  { additionalProperties: false },
);

const TicketView = Type.Object({ ticket: Type.String() });
const JobView = Type.Object({
  status: Type.String(),
  type: Type.String(),
  created_at: Type.String(),
  id: Type.String(),
});

const notFound = () => new NotFound('inexistent_user', 'The user does not exist.');

/** /tickets and /jobs/verification-email: links that let a user reset a password or confirm an email. */
export const ticketRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const ttl = (value: number | undefined) =>
    value === undefined || value === 0 ? DEFAULT_TICKET_TTL_SECONDS : value;

  async function ticketUser(body: {
    user_id?: string | undefined;
    email?: string | undefined;
    connection_id?: string | undefined;
  }): Promise<User> {
    if (body.user_id !== undefined) {
      if (body.email !== undefined || body.connection_id !== undefined) {
        throw new BadRequest(
          'invalid_body',
          'Payload validation error: user_id cannot be used with email or connection_id.',
        );
      }
      const user = await deps.store.users.findById(body.user_id);
      if (!user) throw notFound();
      return user;
    }
    if (body.email === undefined || body.connection_id === undefined) {
      throw new BadRequest(
        'invalid_body',
        'Payload validation error: send user_id, or email together with connection_id.',
      );
    }
    const connection = await deps.store.connections.findById(body.connection_id);
    if (!connection) throw new BadRequest('inexistent_connection', 'The connection does not exist.');
    const email = body.email.toLowerCase();
    const user = (await deps.store.users.findByEmail(email)).find(
      (u) => ownIdentity(u).connection === connection.name,
    );
    if (!user) throw notFound();
    return user;
  }

  async function assertClient(clientId: string | undefined): Promise<void> {
    if (clientId !== undefined && !(await deps.lookups.client(clientId))) {
      throw new BadRequest('inexistent_client', 'The client does not exist.');
    }
  }

  app.post(
    '/tickets/password-change',
    {
      schema: { body: PasswordChangeBody, response: { 201: TicketView } },
      preHandler: requireScope('create:user_tickets'),
    },
    async (req, reply) => {
      const body = req.body;
      await assertClient(body.client_id);
      const user = await ticketUser(body);
      const ticket = await passwordChangeLink(
        deps,
        user,
        {
          resultUrl: body.result_url,
          clientId: body.client_id,
          markEmailAsVerified: body.mark_email_as_verified,
          includeEmailInRedirect: body.includeEmailInRedirect,
        },
        ttl(body.ttl_sec),
      );
      return reply.status(201).send({ ticket });
    },
  );

  app.post(
    '/tickets/email-verification',
    {
      schema: { body: EmailVerificationBody, response: { 201: TicketView } },
      preHandler: requireScope('create:user_tickets'),
    },
    async (req, reply) => {
      const body = req.body;
      await assertClient(body.client_id);
      const user = await ticketUser({ user_id: body.user_id });
      const ticket = await emailVerificationLink(
        deps,
        user,
        {
          resultUrl: body.result_url,
          clientId: body.client_id,
          includeEmailInRedirect: body.includeEmailInRedirect,
        },
        ttl(body.ttl_sec),
      );
      return reply.status(201).send({ ticket });
    },
  );

  app.post(
    '/jobs/verification-email',
    {
      schema: { body: VerificationJobBody, response: { 201: JobView } },
      preHandler: requireScope('update:users'),
    },
    async (req, reply) => {
      const body = req.body;
      await assertClient(body.client_id);
      const user = await ticketUser({ user_id: body.user_id });
      if (user.email === undefined) {
        throw new BadRequest('invalid_body', 'The user has no email address.');
      }
      // Auth0 queues the email as a job; here it is sent before answering, so the job is already completed.
      await sendVerificationEmail(deps, user, { clientId: body.client_id });
      deps.events.record({
        type: 'svr',
        description: 'Verification email sent',
        userId: user.userId,
        userName: user.email,
        clientId: body.client_id,
      });
      return reply.status(201).send({
        status: 'completed',
        type: 'verification_email',
        created_at: new Date(deps.clock.now()).toISOString(),
        id: `job_${randomAlphanumeric(16)}`,
      });
    },
  );
};
