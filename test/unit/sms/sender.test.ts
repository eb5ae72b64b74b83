import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createHttpSmsSender,
  createLogSmsSender,
  createSmsSender,
  SmsNotSent,
  type SmsMessage,
} from '../../../src/sms/sender.js';
import { freePort } from '../../helpers/ports.js';
import { startTestSmsGateway, type TestSmsGateway } from '../../helpers/sms.js';

const MESSAGE: SmsMessage = { to: '+15551234567', body: '123456 is your code', channel: 'sms' };

describe('the HTTP SMS sender against a local gateway', () => {
  let gateway: TestSmsGateway;
  beforeAll(async () => {
    gateway = await startTestSmsGateway();
  });
  afterAll(async () => {
    await gateway.close();
  });

  it('posts {to, body, channel} as JSON with the bearer token of LATCHKEY_SMS_TOKEN', async () => {
    await createHttpSmsSender(gateway.url, 'gateway-token').send({ ...MESSAGE, channel: 'voice' });
    const received = gateway.messages.at(-1);
    expect(received).toMatchObject({ to: MESSAGE.to, body: MESSAGE.body, channel: 'voice' });
    expect(received?.headers['authorization']).toBe('Bearer gateway-token');
    expect(received?.headers['content-type']).toBe('application/json');
  });

  it('sends no authorization header without a token', async () => {
    await createHttpSmsSender(gateway.url, undefined).send(MESSAGE);
    expect(gateway.messages.at(-1)?.headers['authorization']).toBeUndefined();
  });

  it.each([400, 401, 500, 503])('throws SmsNotSent when the gateway answers %i', async (status) => {
    gateway.answer(status);
    try {
      const sent = createHttpSmsSender(gateway.url, undefined).send(MESSAGE);
      await expect(sent).rejects.toBeInstanceOf(SmsNotSent);
      await expect(sent).rejects.toThrow(`the SMS gateway answered ${String(status)}`);
    } finally {
      gateway.answer(200);
    }
  });

  it('throws SmsNotSent when the gateway cannot be reached', async () => {
    const closed = `http://127.0.0.1:${String(await freePort())}/sms`;
    const sent = createHttpSmsSender(closed, undefined).send(MESSAGE);
    await expect(sent).rejects.toBeInstanceOf(SmsNotSent);
    await expect(sent).rejects.toThrow('the SMS gateway could not be reached');
  });

  it('is the sender chosen when LATCHKEY_SMS_URL is set', async () => {
    const logged: unknown[] = [];
    const sender = createSmsSender({ url: gateway.url, token: 't' }, (...line) => logged.push(line));
    const before = gateway.messages.length;
    await sender.send(MESSAGE);
    expect(gateway.messages).toHaveLength(before + 1);
    expect(logged).toEqual([]);
  });
});

describe('the log SMS sender', () => {
  it('writes the whole message to the log when no URL is set', async () => {
    const logged: [string, Record<string, unknown>][] = [];
    const log = (message: string, detail: Record<string, unknown>) => logged.push([message, detail]);
    await createSmsSender(undefined, log).send(MESSAGE);
    await createSmsSender({ url: undefined, token: 'unused' }, log).send(MESSAGE);
    await createLogSmsSender(log).send({ ...MESSAGE, channel: 'voice' });
    const line = ['text message not sent (LATCHKEY_SMS_URL is not set)', { ...MESSAGE }];
    expect(logged).toEqual([line, line, [line[0], { ...MESSAGE, channel: 'voice' }]]);
  });
});
