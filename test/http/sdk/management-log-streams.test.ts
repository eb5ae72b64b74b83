import { ManagementError } from 'auth0';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { startSdkServer, type SdkServer } from '../../helpers/sdk.js';

// auth0 v7's ManagementClient against a listening server: Auth0's log streams (issue 9), type http only.
describe.each(testBackends())('auth0 v7 ManagementClient: log streams on $name', (backend) => {
  let s: SdkServer;
  beforeAll(async () => {
    s = await startSdkServer(backend);
  });
  afterAll(async () => {
    await s.close();
  });

  it('logStreams.list/create/get/update/delete', async () => {
    const m = s.management;
    expect(await m.logStreams.list()).toEqual([]);

    const created = await m.logStreams.create({
      name: 'SIEM',
      type: 'http',
      sink: {
        httpEndpoint: 'https://siem.example.com/auth0',
        httpContentFormat: 'JSONLINES',
        httpAuthorization: 'Splunk 0123456789',
        httpCustomHeaders: [{ header: 'X-Source', value: 'latchkey' }],
      },
      filters: [{ type: 'category', name: 'auth.token_exchange.fail' }],
    });
    const id = created.id ?? '';
    expect(created).toEqual({
      id: expect.stringMatching(/^lst_/),
      name: 'SIEM',
      type: 'http',
      status: 'active',
      sink: {
        httpEndpoint: 'https://siem.example.com/auth0',
        httpContentFormat: 'JSONLINES',
        httpAuthorization: 'Splunk 0123456789',
        httpCustomHeaders: [{ header: 'X-Source', value: 'latchkey' }],
      },
      filters: [{ type: 'category', name: 'auth.token_exchange.fail' }],
      isPriority: false,
    });
    expect(await m.logStreams.get(id)).toEqual(created);
    expect(await m.logStreams.list()).toEqual([created]);

    const updated = await m.logStreams.update(id, {
      status: 'paused',
      sink: { httpEndpoint: 'https://siem.example.com/v2' },
    });
    expect(updated).toEqual({
      ...created,
      status: 'paused',
      sink: { ...created.sink, httpEndpoint: 'https://siem.example.com/v2' },
    });

    await m.logStreams.delete(id);
    expect(await m.logStreams.list()).toEqual([]);
    const missing = await m.logStreams.get(id).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ManagementError);
    expect((missing as ManagementError).statusCode).toBe(404);

    expect(s.sent).toEqual([
      'GET /api/v2/log-streams',
      'POST /api/v2/log-streams',
      `GET /api/v2/log-streams/${id}`,
      'GET /api/v2/log-streams',
      `PATCH /api/v2/log-streams/${id}`,
      `DELETE /api/v2/log-streams/${id}`,
      'GET /api/v2/log-streams',
      `GET /api/v2/log-streams/${id}`,
    ]);
  });

  it('surfaces the 400 for a stream type Latchkey does not deliver to', async () => {
    const error = await s.management.logStreams
      .create({ type: 'datadog', sink: { datadogApiKey: 'k', datadogRegion: 'us' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManagementError);
    expect((error as ManagementError).statusCode).toBe(400);
    expect((error as ManagementError).body).toMatchObject({ errorCode: 'invalid_body' });
    expect((error as ManagementError).message).toContain('does not deliver to datadog');
  });
});
