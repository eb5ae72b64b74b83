import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the test SMS gateway received: the JSON body and the headers it came with. */
export interface ReceivedSms {
  readonly to: string;
  readonly body: string;
  readonly channel: string;
  readonly headers: IncomingHttpHeaders;
}

export interface TestSmsGateway {
  /** `http://127.0.0.1:<port>/sms` for LATCHKEY_SMS_URL. */
  readonly url: string;
  readonly messages: readonly ReceivedSms[];
  /** The status the gateway answers from now on (200 by default). */
  answer(status: number): void;
  /** The first message (received already or later) that satisfies `predicate`; rejects after `timeoutMs`. */
  waitFor(predicate: (sms: ReceivedSms) => boolean, timeoutMs?: number): Promise<ReceivedSms>;
  close(): Promise<void>;
}

/** The six-digit code of a received text (or email). */
export function codeIn(text: string): string {
  const code = /\b(\d{6})\b/.exec(text)?.[1];
  if (code === undefined) throw new Error(`no six-digit code in: ${text}`);
  return code;
}

/** An HTTP SMS gateway inside the test process on 127.0.0.1, recording the JSON bodies posted to it. */
export async function startTestSmsGateway(): Promise<TestSmsGateway> {
  const messages: ReceivedSms[] = [];
  const waiters = new Set<() => void>();
  let status = 200;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Omit<ReceivedSms, 'headers'>;
      if (status >= 200 && status < 300) {
        messages.push({ ...parsed, headers: req.headers });
        for (const wake of waiters) wake();
      }
      res.writeHead(status, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}/sms`,
    messages,
    answer(next) {
      status = next;
    },
    waitFor(predicate, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(predicate);
          if (!found) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching text message within ${timeoutMs} ms (${messages.length} received)`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
