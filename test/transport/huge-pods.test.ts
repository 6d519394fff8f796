/**
 * Huge pods against the real server in its own process: a 10 000-variable pod and a
 * 1 000-container pod, sent as the API server sends them (one keep-alive connection, the webhook's
 * `?timeout=`). The answer must come within the timeout: injected when the timeout leaves room
 * for the work, else refused with INJ_ERR_DEADLINE_EXCEEDED, never an answer after the API server
 * stopped waiting that still carries a patch, never a 5xx. 127.0.0.1 only, bounded in time.
 */
import * as https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevCertificates } from '../../src/tls/dev-cert.js';
import {
  startServingProcess,
  type ServerProcess,
  type ServingProcess,
} from '../helpers/server-process.js';
import { h1Request } from '../server/clients.js';
import { makeReview } from '../helpers/review.js';
import type { Pod } from '../../src/core/pod-types.js';

let serving: ServingProcess | undefined;
let pair: DevCertificates;
let server: ServerProcess;

beforeAll(async () => {
  serving = await startServingProcess('injector-huge-', ['--drain-seconds=0'], {
    maxLifetimeMs: 180_000,
  });
  ({ pair, server } = serving);
});

afterAll(async () => {
  await serving?.stop();
});

function review(pod: unknown): string {
  return JSON.stringify(
    makeReview({ pod: pod as Pod, request: { uid: '7f0b2a4c-0000-4000-8000-000000000001' } }),
  );
}

const PODS: readonly [string, unknown][] = [
  [
    '10 000 environment variables',
    {
      metadata: { generateName: 'env-', namespace: 'default' },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'nginx:1.27',
            env: Array.from({ length: 10_000 }, (_v, i) => ({ name: `VAR_${i}`, value: `v${i}` })),
          },
        ],
      },
    },
  ],
  [
    '1 000 containers',
    {
      metadata: { generateName: 'many-', namespace: 'default' },
      spec: {
        containers: Array.from({ length: 1_000 }, (_v, i) => ({
          name: `c${i}`,
          image: 'nginx:1.27',
          ports: [{ containerPort: 1_000 + i }],
          readinessProbe: { httpGet: { path: `/ready/${i}`, port: 1_000 + i } },
        })),
      },
    },
  ],
];

describe('huge pods answer within the review timeout', () => {
  it.each(PODS)(
    '%s',
    async (_name, pod) => {
      const body = review(pod);
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
      // A pod seen before may be answered from the injection reuse cache well inside a few ms, so
      // each "no room" request carries a pod the server has not seen (a fresh annotation value):
      // the whole pipeline has to run, and it cannot fit the deadline.
      let unseen = 0;
      const unseenBody = () =>
        review(
          (() => {
            const p = structuredClone(pod) as {
              metadata: { annotations?: Record<string, string> };
            };
            p.metadata.annotations = { 'example.com/attempt': String(++unseen) };
            return p;
          })(),
        );
      const send = async (timeout: string, text = body) => {
        const started = performance.now();
        const reply = await h1Request(server.port, {
          ca: pair.ca,
          path: `/inject?timeout=${timeout}`,
          method: 'POST',
          body: text,
          agent,
        });
        const ms = performance.now() - started;
        const response = (
          JSON.parse(reply.body) as {
            response: { allowed: boolean; patch?: string; status?: { message?: string } };
          }
        ).response;
        return { status: reply.status, ms, response };
      };
      try {
        // The connection is open (as the API server's is) before anything is timed.
        await h1Request(server.port, { ca: pair.ca, path: '/healthz', agent });
        const lines: string[] = [];
        // Room for the work: injected, within the timeout.
        for (const [timeout, ms] of [
          ['10s', 10_000],
          ['2s', 2_000],
        ] as const) {
          for (let i = 0; i < 3; i++) {
            const r = await send(timeout);
            lines.push(`?timeout=${timeout}: ${r.ms.toFixed(0)} ms, allowed ${r.response.allowed}`);
            expect(r.status).toBe(200);
            expect(r.response.allowed, r.response.status?.message).toBe(true);
            expect(r.response.patch).toBeDefined();
            expect(r.ms).toBeLessThan(ms);
          }
        }
        // No room: refused as past the deadline, with no patch, and never a 5xx.
        for (const timeout of ['1ms', '5ms']) {
          for (let i = 0; i < 3; i++) {
            const r = await send(timeout, unseenBody());
            lines.push(`?timeout=${timeout}: ${r.ms.toFixed(0)} ms, allowed ${r.response.allowed}`);
            expect(r.status).toBe(200);
            expect(r.response.allowed).toBe(false);
            expect(r.response.patch).toBeUndefined();
            expect(r.response.status?.message).toMatch(/^INJ_ERR_DEADLINE_EXCEEDED/);
          }
        }
        console.log(
          `huge pod (${_name}, ${(body.length / 1024).toFixed(0)} KiB): ${lines.join('; ')}`,
        );
      } finally {
        agent.destroy();
      }
    },
    90_000,
  );
});
