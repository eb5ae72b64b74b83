import type { LogEvent } from '../../domain/log-event.js';
import { BadRequest, NotFound, ServiceUnavailable } from '../../errors/api.js';
import type { Deps } from '../../server/deps.js';
import { LOG_SORT_FIELDS, type LogQuery, type LogSortField } from '../../storage/repositories/logs.js';
import { QueryTimeout } from '../../storage/search-deadline.js';
import { parseSearchQuery } from '../../users/search-query.js';

/** Auth0 lets a log search page through its first 1000 results; checkpoint reads go further. */
const SEARCH_WINDOW = 1000;

export interface LogListInput {
  readonly search?: string | undefined;
  readonly sort?: string | undefined;
  readonly userId?: string | undefined;
}

export function createLogService(deps: Deps) {
  const { store } = deps;

  function toQuery(input: LogListInput): LogQuery {
    const text = input.search?.trim();
    const search = text === undefined || text === '' ? undefined : parseSearchQuery(text);
    let sort: LogQuery['sort'] = { field: 'date', direction: 'desc' };
    if (input.sort !== undefined) {
      const [field = '', dir] = input.sort.split(':');
      if (!Object.hasOwn(LOG_SORT_FIELDS, field))
        throw new BadRequest('invalid_query_string', `Query validation error: cannot sort by ${field}.`);
      sort = { field: field as LogSortField, direction: dir === '1' ? 'asc' : 'desc' };
    }
    return { search, sort, userId: input.userId };
  }

  return {
    async list(input: LogListInput, page: { offset: number; limit: number }) {
      if (page.offset + page.limit > SEARCH_WINDOW) {
        throw new BadRequest(
          'invalid_query_string',
          `Query validation error: only the first ${SEARCH_WINDOW} log events can be paged through; narrow the search or read from a checkpoint (from, take).`,
        );
      }
      const query = toQuery(input);
      const [items, total] = await Promise.all([store.logs.list(query, page), store.logs.count(query)]).catch(
        (error: unknown) => {
          // As a user search: Auth0 answers a search that does not complete in time with 503.
          if (error instanceof QueryTimeout) {
            throw new ServiceUnavailable(
              'query_timeout',
              'The query exceeded the timeout. Please try refining your search criteria.',
            );
          }
          throw error;
        },
      );
      return { items, total: Math.min(total, SEARCH_WINDOW) };
    },

    /** Checkpoint read: the events recorded after `from` (or the oldest kept, without it), oldest first. */
    after: (from: string | undefined, take: number): Promise<LogEvent[]> =>
      store.logs.after(from ?? '', take),

    async get(logId: string): Promise<LogEvent> {
      const event = await store.logs.findById(logId);
      if (!event) throw new NotFound('inexistent_log', 'The log event does not exist.');
      return event;
    },
  };
}
