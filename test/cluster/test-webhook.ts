/**
 * A small mutating webhook of the suite's own, called by the real API server over TLS:
 *   /record  tags each pod with a trace annotation and keeps the pod exactly as the API server
 *            sent it, so the next webhook's input (ours) is known and the stored Pod can be
 *            predicted from our patch;
 *   /second  a second, independent mutating webhook (adds a container once), installed with
 *            reinvocationPolicy IfNeeded;
 * Every call's query string is kept (the API server's `?timeout=`).
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Pod } from '../../src/core/pod-types.js';

export const TRACE_ANNOTATION = 'test.sidecar-injector.io/trace';

export interface WebhookCall {
  path: string;
  query: string;
  operation: string;
  dryRun: boolean;
  pod: Pod;
}

interface AdmissionReview {
  apiVersion: string;
  kind: string;
  request: {
    uid: string;
    operation: string;
    dryRun?: boolean;
    object: Pod;
  };
}

type Op = { op: 'add'; path: string; value: unknown };

export class TestWebhook {
  readonly calls: WebhookCall[] = [];
  /** Trace id -> the pod our injector received (the recorder's input plus the trace annotation). */
  readonly recorded = new Map<string, Pod>();
  private server?: Server;
  private next = 0;

  constructor(private readonly tls: { cert: string; key: string }) {}

  async start(): Promise<number> {
    this.server = createServer(this.tls, (req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= 16 * 1024 * 1024) chunks.push(c);
      });
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'https://127.0.0.1');
        let body: AdmissionReview;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AdmissionReview;
        } catch {
          res.writeHead(400).end();
          return;
        }
        const pod = body.request.object;
        this.calls.push({
          path: url.pathname,
          query: url.search,
          operation: body.request.operation,
          dryRun: body.request.dryRun === true,
          pod: structuredClone(pod),
        });
        const patch = url.pathname === '/record' ? this.record(pod) : this.second(pod);
        const response: Record<string, unknown> = { uid: body.request.uid, allowed: true };
        if (patch.length > 0) {
          response.patchType = 'JSONPatch';
          response.patch = Buffer.from(JSON.stringify(patch)).toString('base64');
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ apiVersion: body.apiVersion, kind: body.kind, response }));
      });
    });
    this.server.listen(0, '127.0.0.1');
    await new Promise((r) => this.server?.once('listening', r));
    return (this.server.address() as AddressInfo).port;
  }

  private record(pod: Pod): Op[] {
    const id = `t${++this.next}`;
    const after = structuredClone(pod);
    after.metadata = after.metadata ?? {};
    after.metadata.annotations = { ...(after.metadata.annotations ?? {}), [TRACE_ANNOTATION]: id };
    this.recorded.set(id, after);
    return pod.metadata?.annotations
      ? [
          {
            op: 'add',
            path: `/metadata/annotations/${TRACE_ANNOTATION.replace('/', '~1')}`,
            value: id,
          },
        ]
      : [{ op: 'add', path: '/metadata/annotations', value: { [TRACE_ANNOTATION]: id } }];
  }

  private second(pod: Pod): Op[] {
    if ((pod.spec?.containers ?? []).some((c) => c.name === 'metrics-agent')) return [];
    return [
      {
        op: 'add',
        path: '/spec/containers/-',
        value: {
          name: 'metrics-agent',
          image: 'example.com/metrics-agent:1.0',
          ports: [{ containerPort: 9102 }],
          readinessProbe: { httpGet: { path: '/ready', port: 9102 } },
        },
      },
    ];
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server) return resolve();
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
