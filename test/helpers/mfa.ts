import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import type { TestApp } from './build-test-app.js';
import { api } from './http.js';

/** One text message the SMS gateway received: what Latchkey's HTTP sender posts. */
export interface ReceivedSms {
  readonly to: string;
  readonly body: string;
  readonly channel: 'sms' | 'voice';
}

export interface TestSmsGateway {
  /** The URL for the app's `sms.url` (LATCHKEY_SMS_URL). */
  readonly url: string;
  readonly messages: readonly ReceivedSms[];
  /** The Authorization headers it received, in order. */
  readonly authorizations: readonly (string | undefined)[];
  /** The status it answers with (200 unless a test sets another). */
  status: number;
  /** The first message (received already or later) to `to`, after `skip` earlier ones to that number. */
  waitFor(to: string, skip?: number, timeoutMs?: number): Promise<ReceivedSms>;
  close(): Promise<void>;
}

/** A real HTTP SMS gateway on 127.0.0.1 that keeps every message posted to it. */
export async function startTestSmsGateway(): Promise<TestSmsGateway> {
  const messages: ReceivedSms[] = [];
  const authorizations: (string | undefined)[] = [];
  const gateway = { status: 200 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (gateway.status < 300) {
        messages.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReceivedSms);
        authorizations.push(req.headers.authorization);
      }
      res.writeHead(gateway.status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(gateway, {
    url: `http://127.0.0.1:${port}/sms`,
    messages,
    authorizations,
    async waitFor(to: string, skip = 0, timeoutMs = 5000): Promise<ReceivedSms> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.filter((m) => m.to === to)[skip];
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no text message to ${to}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      ),
  });
}

/** The six-digit code in a message sent by the second-factor core (email or text). */
export function sixDigits(text: string): string {
  const code = /\b(\d{6})\b/.exec(text)?.[1];
  if (code === undefined) throw new Error('no six-digit code in the message');
  return code;
}

/** Turns guardian factors on or off and sets the MFA policy, through the Management API. */
export async function configureMfa(
  t: TestApp,
  factors: Readonly<Record<string, boolean>>,
  policies: readonly string[],
): Promise<void> {
  const token = await t.managementToken();
  for (const [name, enabled] of Object.entries(factors)) {
    const res = await api(t.app, {
      method: 'PUT',
      url: `/api/v2/guardian/factors/${name}`,
      token,
      body: { enabled },
    });
    expect(res.statusCode).toBe(200);
  }
  const res = await api(t.app, { method: 'PUT', url: '/api/v2/guardian/policies', token, body: policies });
  expect(res.statusCode).toBe(200);
}
