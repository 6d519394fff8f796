/**
 * An in-process stand-in for the Kubernetes API server, speaking the real list/watch wire format
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/):
 * - lists are JSON `*List` objects carrying `metadata.resourceVersion`;
 * - `?watch=true` answers 200 with a chunked stream of `{"type":..., "object":...}` lines, replaying every
 *   change after the requested resourceVersion; a resourceVersion older than the retained history gets an
 *   `ERROR` event with a 410 `Expired` Status, as the real server does for watches;
 * - `Accept: application/json;as=PartialObjectMetadata[List];g=meta.k8s.io;v=v1` returns metadata only;
 * - requests without the expected bearer token get 401.
 * It binds 127.0.0.1 only, can go away and come back on the same port, and records every request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Socket } from 'node:net';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type Resource =
  'namespaces' | 'nodes' | 'configmaps' | 'pods' | 'mutatingwebhookconfigurations' | 'proxyconfigs';

export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

interface HistoryEvent {
  rv: number;
  resource: Resource;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KObject;
}

interface Watcher {
  resource: Resource;
  namespace: string | undefined;
  partial: boolean;
  fieldName: string | undefined;
  res: ServerResponse;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  accept: string;
}

const KINDS: Record<Resource, string> = {
  namespaces: 'Namespace',
  nodes: 'Node',
  configmaps: 'ConfigMap',
  pods: 'Pod',
  mutatingwebhookconfigurations: 'MutatingWebhookConfiguration',
  proxyconfigs: 'ProxyConfig',
};

const API_VERSIONS: Partial<Record<Resource, string>> = {
  mutatingwebhookconfigurations: 'admissionregistration.k8s.io/v1',
  proxyconfigs: 'networking.istio.io/v1beta1',
};

export const TEST_TOKEN = 'fake-apiserver-token';

export interface FakeApiServerOptions {
  /** Serve HTTPS with this certificate; the kubeconfig then carries `ca` as certificate-authority-data. */
  tls?: { cert: string; key: string; ca: string };
}

export class FakeApiServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly watchers = new Set<Watcher>();
  private readonly objects = new Map<string, KObject>();
  private history: HistoryEvent[] = [];
  /** Oldest resourceVersion a watch may resume from; older ones get 410. */
  private compactedRv = 0;
  private rv = 100;
  port = 0;
  readonly requests: RecordedRequest[] = [];
  /** Bodies of Event creations (`POST /api/v1/namespaces/<ns>/events`), answered 201. */
  readonly events: KObject[] = [];
  /** When set, every request is answered with this HTTP status (simulates an overloaded server). */
  failWith: number | undefined;
  /** Resources whose reads are answered 403 Forbidden (missing RBAC). */
  readonly forbidden = new Set<Resource>();
  /** Namespace GETs wait this long before answering (simulates a slow server). */
  getDelayMs = 0;
  /** Whether the ProxyConfig CRD is installed; without it its paths answer 404, as the real server does. */
  proxyConfigCrd = false;

  constructor(private readonly options: FakeApiServerOptions = {}) {}

  async start(): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.handle(req, res);
    const tls = this.options.tls;
    const server: Server =
      tls === undefined
        ? createServer(handler)
        : createTlsServer({ cert: tls.cert, key: tls.key }, handler);
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    this.port = address.port;
    this.server = server;
  }

  /** The server goes away: open watches are cut and new connections are refused. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    return `${this.options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${this.port}`;
  }

  /**
   * Writes a kubeconfig file pointing at this server and returns its path. `trustCa` replaces the
   * CA the client trusts (to test verification failures).
   */
  async writeKubeconfig(dir: string, trustCa?: string): Promise<string> {
    const path = join(dir, 'kubeconfig.yaml');
    const ca = trustCa ?? this.options.tls?.ca ?? '';
    const text = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: fake`,
      this.options.tls === undefined
        ? // Plain HTTP on loopback; client-node only accepts http:// together with skip-verify.
          `  cluster: { server: "${this.url}", insecure-skip-tls-verify: true }`
        : `  cluster: { server: "${this.url}", certificate-authority-data: "${Buffer.from(ca).toString('base64')}" }`,
      'users:',
      `- name: tester`,
      `  user: { token: "${TEST_TOKEN}" }`,
      'contexts:',
      '- name: fake',
      '  context: { cluster: fake, user: tester }',
      'current-context: fake',
      '',
    ].join('\n');
    await writeFile(path, text);
    return path;
  }

  // ---- state changes (what kubectl would do) ----

  upsert(resource: Resource, object: KObject): KObject {
    const key = this.key(resource, object.metadata.namespace, object.metadata.name);
    const existed = this.objects.has(key);
    this.rv += 1;
    const stored: KObject = structuredClone({
      apiVersion: API_VERSIONS[resource] ?? 'v1',
      kind: KINDS[resource],
      ...object,
      metadata: { ...object.metadata, resourceVersion: String(this.rv) },
    });
    this.objects.set(key, stored);
    this.emit({ rv: this.rv, resource, type: existed ? 'MODIFIED' : 'ADDED', object: stored });
    return stored;
  }

  remove(resource: Resource, name: string, namespace?: string): void {
    const key = this.key(resource, namespace, name);
    const existing = this.objects.get(key);
    if (existing === undefined) return;
    this.objects.delete(key);
    this.rv += 1;
    const object = structuredClone({
      ...existing,
      metadata: { ...existing.metadata, resourceVersion: String(this.rv) },
    });
    this.emit({ rv: this.rv, resource, type: 'DELETED', object });
  }

  get(resource: Resource, name: string, namespace?: string): KObject | undefined {
    const found = this.objects.get(this.key(resource, namespace, name));
    return found === undefined ? undefined : structuredClone(found);
  }

  /** Forgets the watch history, as etcd compaction does: older resourceVersions now get 410. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history = [];
  }

  /** Sends a BOOKMARK on every open watch of `resource`. */
  bookmark(resource: Resource): void {
    for (const w of this.watchers) {
      if (w.resource !== resource) continue;
      writeEvent(w.res, 'BOOKMARK', {
        apiVersion: 'v1',
        kind: KINDS[resource],
        metadata: { name: '', resourceVersion: String(this.rv) },
      });
    }
  }

  watchCount(resource?: Resource): number {
    return [...this.watchers].filter((w) => resource === undefined || w.resource === resource)
      .length;
  }

  // ---- HTTP ----

  private key(resource: Resource, namespace: string | undefined, name: string): string {
    return `${resource}/${namespace ?? ''}/${name}`;
  }

  private emit(event: HistoryEvent): void {
    this.history.push(event);
    for (const w of this.watchers) this.deliver(w, event);
  }

  private deliver(w: Watcher, event: HistoryEvent): void {
    if (event.resource !== w.resource) return;
    if (w.namespace !== undefined && event.object.metadata.namespace !== w.namespace) return;
    if (w.fieldName !== undefined && event.object.metadata.name !== w.fieldName) return;
    writeEvent(w.res, event.type, w.partial ? toPartial(event.object) : event.object);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const accept = req.headers.accept ?? '';
    this.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      accept,
    });
    if (req.headers.authorization !== `Bearer ${TEST_TOKEN}`) {
      sendStatus(res, 401, 'Unauthorized', 'missing or wrong bearer token');
      return;
    }
    if (this.failWith !== undefined) {
      sendStatus(res, this.failWith, 'InternalError', 'injected failure');
      return;
    }
    if (req.method === 'POST' && /^\/api\/v1\/namespaces\/[^/]+\/events$/.test(url.pathname)) {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const event = JSON.parse(body) as KObject;
        this.events.push(event);
        sendJson(res, 201, event);
      });
      return;
    }
    const route = parsePath(url.pathname);
    if (route === undefined || req.method !== 'GET') {
      sendStatus(res, 404, 'NotFound', `no route for ${req.method ?? ''} ${url.pathname}`);
      return;
    }
    if (route.resource === 'proxyconfigs' && !this.proxyConfigCrd) {
      sendStatus(res, 404, 'NotFound', 'the server could not find the requested resource');
      return;
    }
    if (this.forbidden.has(route.resource)) {
      sendStatus(res, 403, 'Forbidden', `${route.resource} is forbidden: no RBAC rule allows it`);
      return;
    }
    const fieldName = parseFieldSelector(url.searchParams.get('fieldSelector'));
    if (route.name !== undefined) {
      this.handleGet(res, route.resource, route.name, route.namespace, accept);
    } else if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
      this.handleWatch(res, {
        resource: route.resource,
        namespace: route.namespace,
        partial: accept.includes('as=PartialObjectMetadata'),
        fieldName,
        rv: url.searchParams.get('resourceVersion') ?? '',
      });
    } else {
      this.handleList(res, route.resource, route.namespace, fieldName, accept);
    }
  }

  private handleGet(
    res: ServerResponse,
    resource: Resource,
    name: string,
    namespace: string | undefined,
    accept: string,
  ): void {
    const answer = (): void => {
      const obj = this.objects.get(this.key(resource, namespace, name));
      if (obj === undefined) {
        sendStatus(res, 404, 'NotFound', `${resource} "${name}" not found`);
        return;
      }
      sendJson(res, 200, accept.includes('as=PartialObjectMetadata') ? toPartial(obj) : obj);
    };
    if (this.getDelayMs > 0) setTimeout(answer, this.getDelayMs);
    else answer();
  }

  private selected(
    resource: Resource,
    namespace: string | undefined,
    fieldName: string | undefined,
  ): KObject[] {
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(`${resource}/`))
      .map(([, obj]) => obj)
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .filter((o) => fieldName === undefined || o.metadata.name === fieldName);
  }

  private handleList(
    res: ServerResponse,
    resource: Resource,
    namespace: string | undefined,
    fieldName: string | undefined,
    accept: string,
  ): void {
    const partial = accept.includes('as=PartialObjectMetadataList');
    const items = this.selected(resource, namespace, fieldName);
    sendJson(res, 200, {
      apiVersion: partial ? 'meta.k8s.io/v1' : (API_VERSIONS[resource] ?? 'v1'),
      kind: partial ? 'PartialObjectMetadataList' : `${KINDS[resource]}List`,
      metadata: { resourceVersion: String(this.rv) },
      items: partial ? items.map(toPartial) : items,
    });
  }

  private handleWatch(res: ServerResponse, w: Omit<Watcher, 'res'> & { rv: string }): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const watcher: Watcher = { ...w, res };
    const from = Number(w.rv);
    if (w.rv !== '' && w.rv !== '0' && (!Number.isFinite(from) || from < this.compactedRv)) {
      writeEvent(res, 'ERROR', {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${w.rv} (${this.compactedRv})`,
        reason: 'Expired',
        code: 410,
      });
      res.end();
      return;
    }
    if (w.rv === '' || w.rv === '0') {
      for (const obj of this.selected(w.resource, w.namespace, w.fieldName)) {
        writeEvent(res, 'ADDED', w.partial ? toPartial(obj) : obj);
      }
    } else {
      for (const event of this.history) if (event.rv > from) this.deliver(watcher, event);
    }
    this.watchers.add(watcher);
    res.on('close', () => this.watchers.delete(watcher));
  }
}

function parsePath(
  path: string,
): { resource: Resource; namespace?: string; name?: string } | undefined {
  const parts = path
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  if (
    parts.slice(0, 4).join('/') ===
    'apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations'
  ) {
    return parts[4] === undefined
      ? { resource: 'mutatingwebhookconfigurations' }
      : { resource: 'mutatingwebhookconfigurations', name: parts[4] };
  }
  if (parts.slice(0, 3).join('/') === 'apis/networking.istio.io/v1beta1') {
    if (parts[3] === 'proxyconfigs' && parts.length === 4) return { resource: 'proxyconfigs' };
    if (parts[3] === 'namespaces' && parts[5] === 'proxyconfigs' && parts.length <= 7) {
      return parts[6] === undefined
        ? { resource: 'proxyconfigs', namespace: parts[4] }
        : { resource: 'proxyconfigs', namespace: parts[4], name: parts[6] };
    }
    return undefined;
  }
  if (parts[0] !== 'api' || parts[1] !== 'v1') return undefined;
  const rest = parts.slice(2);
  if (rest[0] === 'pods' && rest.length === 1) return { resource: 'pods' };
  if (rest[0] === 'namespaces' && rest[2] === 'pods' && rest.length <= 4) {
    return rest[3] === undefined
      ? { resource: 'pods', namespace: rest[1] }
      : { resource: 'pods', namespace: rest[1], name: rest[3] };
  }
  if (rest[0] === 'namespaces' && rest.length === 4 && rest[2] === 'configmaps') {
    return { resource: 'configmaps', namespace: rest[1], name: rest[3] };
  }
  if (rest[0] === 'namespaces' && rest.length === 3 && rest[2] === 'configmaps') {
    return { resource: 'configmaps', namespace: rest[1] };
  }
  if ((rest[0] === 'namespaces' || rest[0] === 'nodes') && rest.length <= 2) {
    return rest[1] === undefined ? { resource: rest[0] } : { resource: rest[0], name: rest[1] };
  }
  return undefined;
}

function parseFieldSelector(selector: string | null): string | undefined {
  if (selector === null || selector === '') return undefined;
  const match = /^metadata\.name==?(.+)$/.exec(selector);
  return match?.[1];
}

function toPartial(obj: KObject): KObject {
  return { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: obj.metadata };
}

function writeEvent(res: ServerResponse, type: string, object: unknown): void {
  res.write(`${JSON.stringify({ type, object })}\n`);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function sendStatus(res: ServerResponse, code: number, reason: string, message: string): void {
  sendJson(res, code, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  });
}
