import { Type, type Static, type TSchema } from 'typebox';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Closed = <P extends Parameters<typeof Type.Object>[0]>(properties: P) =>
  Type.Object(properties, { additionalProperties: false });
// Only hex colours: the value ends up in the pages' style sheet, so nothing else may reach it.
const Colour = Type.String({ pattern: '^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$' });
const Url = Type.String({ minLength: 1, maxLength: 2048 });

/** Auth0's PATCH /api/v2/branding body: null removes a setting. */
export const BrandingUpdate = Closed({
  colors: Type.Optional(
    Nullable(
      Closed({
        primary: Type.Optional(Nullable(Colour)),
        page_background: Type.Optional(Nullable(Colour)),
      }),
    ),
  ),
  logo_url: Type.Optional(Nullable(Url)),
  favicon_url: Type.Optional(Nullable(Url)),
  font: Type.Optional(Nullable(Closed({ url: Type.Optional(Nullable(Url)) }))),
});
export type BrandingUpdate = Static<typeof BrandingUpdate>;

export const BrandingView = Closed({
  colors: Type.Optional(
    Closed({ primary: Type.Optional(Type.String()), page_background: Type.Optional(Type.String()) }),
  ),
  logo_url: Type.Optional(Type.String()),
  favicon_url: Type.Optional(Type.String()),
  font: Type.Optional(Closed({ url: Type.Optional(Type.String()) })),
});
export type BrandingView = Static<typeof BrandingView>;
