import { Type } from 'typebox';
import { CheckpointQuery, FieldsQuery, PageQuery } from '../pagination.js';

const Sort = Type.Optional(Type.String({ pattern: '^[a-z_]+:(1|-1)$', maxLength: 40 }));
const Search = Type.Optional(Type.String({ maxLength: 2000 }));

/** Auth0's GET /logs query; the auth0 v7 SDK names the search `search`, older clients `q`. */
export const LogListQuery = Type.Object(
  { ...PageQuery, ...FieldsQuery, ...CheckpointQuery, sort: Sort, q: Search, search: Search },
  { additionalProperties: false },
);

export const UserLogsQuery = Type.Object({ ...PageQuery, sort: Sort }, { additionalProperties: false });

export const LogParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });
