/**
 * Sends `count` concurrent POST /inject requests with the body in `file`, each on its own HTTP/1.1
 * connection, from its own process (so the sender's TLS work is not charged to the measuring
 * client), and prints one JSON line: the status and `code` of every answer. 127.0.0.1 only, each
 * request bounded by 30 s.
 * Usage: tsx post-client.ts <port> <ca file> <body file> <count>
 */
import { readFileSync } from 'node:fs';
import * as https from 'node:https';

const [portText, caFile, bodyFile, countText] = process.argv.slice(2);
const ca = readFileSync(caFile ?? '', 'utf8');
const body = readFileSync(bodyFile ?? '');

function post(): Promise<{ status: number; code?: string }> {
  return new Promise((resolve) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        servername: 'localhost',
        port: Number(portText),
        path: '/inject',
        method: 'POST',
        ca,
        agent: false,
        timeout: 30_000,
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          let code: string | undefined;
          try {
            code = (JSON.parse(text) as { code?: string }).code;
          } catch {
            code = undefined;
          }
          resolve({ status: response.statusCode ?? 0, ...(code ? { code } : {}) });
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', () => resolve({ status: 0 }));
    request.end(body);
  });
}

const results = await Promise.all(Array.from({ length: Number(countText ?? '1') }, post));
process.stdout.write(`${JSON.stringify(results)}\n`);
