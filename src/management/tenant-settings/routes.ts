import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { BadRequest } from '../../errors/api.js';
import type { Deps } from '../../server/deps.js';
import { requireScope } from '../auth.js';

const Urls = Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { maxItems: 100 });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const settings = {
  friendly_name: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  picture_url: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  support_email: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  support_url: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  default_audience: Type.Optional(Nullable(Type.String({ maxLength: 600 }))),
  default_directory: Type.Optional(Nullable(Type.String({ maxLength: 128 }))),
  allowed_logout_urls: Type.Optional(Urls),
  session_lifetime: Type.Optional(Type.Number({ minimum: 1, maximum: 8760 })),
  idle_session_lifetime: Type.Optional(Type.Number({ minimum: 1, maximum: 8760 })),
  flags: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.Boolean(), { maxProperties: 100 })),
  enabled_locales: Type.Optional(Type.Array(Type.String({ minLength: 2, maxLength: 10 }), { maxItems: 100 })),
  allow_organization_name_in_authentication_api: Type.Optional(Type.Boolean()),
  resource_parameter_profile: Type.Optional(
    Type.Union([Type.Literal('audience'), Type.Literal('compatibility')]),
  ),
  sessions: Type.Optional(
    Type.Object(
      { oidc_logout_prompt_enabled: Type.Optional(Type.Boolean()) },
      { additionalProperties: false },
    ),
  ),
  oidc_logout: Type.Optional(
    Type.Object(
      { rp_logout_end_session_endpoint_discovery: Type.Boolean() },
      { additionalProperties: false },
    ),
  ),
};

const SettingsUpdate = Type.Object(settings, { additionalProperties: false });
type SettingsUpdate = Static<typeof SettingsUpdate>;
const SettingsView = Type.Object(settings);
const SettingsQuery = Type.Object(
  { fields: Type.Optional(Type.String({ maxLength: 2000 })), include_fields: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

export const tenantSettingsRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const { store } = deps;

  app.get(
    '/tenants/settings',
    {
      schema: { querystring: SettingsQuery, response: { 200: SettingsView } },
      preHandler: requireScope('read:tenant_settings'),
    },
    async () => (await store.tenants.find())?.settings ?? {},
  );

  app.patch(
    '/tenants/settings',
    {
      schema: { body: SettingsUpdate, response: { 200: SettingsView } },
      preHandler: requireScope('update:tenant_settings'),
    },
    async (req) =>
      store.transaction(async (repos) => {
        const body: SettingsUpdate = req.body;
        if (
          typeof body.default_directory === 'string' &&
          !(await repos.connections.findByName(body.default_directory))
        ) {
          throw new BadRequest(
            'invalid_body',
            `Payload validation error: connection ${body.default_directory} does not exist.`,
          );
        }
        const current = (await repos.tenants.find())?.settings ?? {};
        const merged: Record<string, unknown> = { ...current, ...body };
        if (body.flags) merged['flags'] = { ...(current['flags'] as object | undefined), ...body.flags };
        // Auth0 compat: null removes a setting.
        const next = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== null));
        await repos.tenants.updateSettings(next);
        return next;
      }),
  );
};
