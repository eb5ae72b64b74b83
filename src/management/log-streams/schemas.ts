import { Type, type Static } from 'typebox';
import { LOG_STREAM_CATEGORIES, type LogStream } from '../../domain/log-stream.js';

export const LogStreamParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

const Name = Type.String({ minLength: 1, maxLength: 256 });
const Filters = Type.Array(
  Type.Object(
    { type: Type.Literal('category'), name: Type.Enum([...LOG_STREAM_CATEGORIES]) },
    { additionalProperties: false },
  ),
  { maxItems: LOG_STREAM_CATEGORIES.length, uniqueItems: true },
);
// RFC 9110 §5.1 token characters for the name; no control characters (CR, LF) in the value.
const CustomHeader = Type.Object(
  {
    header: Type.String({ minLength: 1, maxLength: 256, pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" }),
    value: Type.String({ maxLength: 4096, pattern: '^[^\\u0000-\\u0008\\u000A-\\u001F\\u007F]*$' }),
  },
  { additionalProperties: false },
);
const sinkFields = {
  httpEndpoint: Type.String({ minLength: 1, maxLength: 2048 }),
  httpContentFormat: Type.Enum(['JSONARRAY', 'JSONLINES', 'JSONOBJECT']),
  httpContentType: Type.String({ minLength: 1, maxLength: 256, pattern: '^[^\\u0000-\\u001F\\u007F]*$' }),
  httpAuthorization: Type.String({ minLength: 1, maxLength: 4096, pattern: '^[^\\u0000-\\u001F\\u007F]*$' }),
  httpCustomHeaders: Type.Array(CustomHeader, { maxItems: 20 }),
};

const HttpSinkCreate = Type.Object(
  {
    httpEndpoint: sinkFields.httpEndpoint,
    httpContentFormat: Type.Optional(sinkFields.httpContentFormat),
    httpContentType: Type.Optional(sinkFields.httpContentType),
    httpAuthorization: Type.Optional(sinkFields.httpAuthorization),
    httpCustomHeaders: Type.Optional(sinkFields.httpCustomHeaders),
  },
  { additionalProperties: false },
);

// Auth0 documents pii_config and startFrom; Latchkey cannot honour them yet, so they are refused by the
// service with a message saying so rather than by the schema as unknown fields.
const PiiConfig = Type.Unknown();
const StartFrom = Type.Unknown();

export const LogStreamCreate = Type.Object(
  {
    name: Type.Optional(Name),
    // Other Auth0 types are refused before validation (routes.ts) with a message naming them.
    type: Type.Literal('http'),
    sink: HttpSinkCreate,
    filters: Type.Optional(Filters),
    isPriority: Type.Optional(Type.Boolean()),
    pii_config: Type.Optional(PiiConfig),
    startFrom: Type.Optional(StartFrom),
  },
  { additionalProperties: false },
);
export type LogStreamCreate = Static<typeof LogStreamCreate>;

export const LogStreamUpdate = Type.Object(
  {
    name: Type.Optional(Name),
    // Auth0 suspends a failing stream itself; a caller can only resume or pause one.
    status: Type.Optional(Type.Enum(['active', 'paused'])),
    sink: Type.Optional(
      Type.Object(
        {
          httpEndpoint: Type.Optional(sinkFields.httpEndpoint),
          httpContentFormat: Type.Optional(sinkFields.httpContentFormat),
          httpContentType: Type.Optional(sinkFields.httpContentType),
          httpAuthorization: Type.Optional(sinkFields.httpAuthorization),
          httpCustomHeaders: Type.Optional(sinkFields.httpCustomHeaders),
        },
        { additionalProperties: false },
      ),
    ),
    filters: Type.Optional(Filters),
    isPriority: Type.Optional(Type.Boolean()),
    pii_config: Type.Optional(PiiConfig),
  },
  { additionalProperties: false },
);
export type LogStreamUpdate = Static<typeof LogStreamUpdate>;

/** Auth0's HTTP log stream item (node-auth0 `LogStreamHttpResponseSchema`). */
export const LogStreamView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  type: Type.Literal('http'),
  status: Type.Enum(['active', 'paused', 'suspended']),
  sink: Type.Object({
    httpEndpoint: Type.String(),
    httpContentFormat: Type.String(),
    httpContentType: Type.Optional(Type.String()),
    // Auth0 returns it; Management answers are no-store.
    httpAuthorization: Type.Optional(Type.String()),
    httpCustomHeaders: Type.Optional(
      Type.Array(Type.Object({ header: Type.String(), value: Type.String() })),
    ),
  }),
  filters: Type.Optional(Type.Array(Type.Object({ type: Type.String(), name: Type.String() }))),
  isPriority: Type.Boolean(),
});
export type LogStreamView = Static<typeof LogStreamView>;

export const LogStreamListView = Type.Array(LogStreamView);

export function toLogStreamView(s: LogStream): LogStreamView {
  const { sink } = s;
  return {
    id: s.id,
    name: s.name,
    type: s.type,
    status: s.status,
    sink: {
      httpEndpoint: sink.httpEndpoint,
      httpContentFormat: sink.httpContentFormat,
      ...(sink.httpContentType !== undefined ? { httpContentType: sink.httpContentType } : {}),
      ...(sink.httpAuthorization !== undefined ? { httpAuthorization: sink.httpAuthorization } : {}),
      ...(sink.httpCustomHeaders !== undefined
        ? { httpCustomHeaders: sink.httpCustomHeaders.map((h) => ({ header: h.header, value: h.value })) }
        : {}),
    },
    ...(s.filters !== undefined ? { filters: s.filters.map((f) => ({ type: f.type, name: f.name })) } : {}),
    isPriority: s.isPriority,
  };
}
