/**
 * The API server's side of mutating admission, as the fake API server performs it on pod CREATE:
 * match each webhook of a MutatingWebhookConfiguration (rules, namespaceSelector on the namespace's
 * labels, objectSelector on the pod's labels), POST an admission.k8s.io/v1 AdmissionReview over TLS
 * verifying the server certificate against `caBundle` for `<service>.<namespace>.svc`, check the
 * response as the API server does (uid echo, GVK, patch/patchType pairing), apply the JSON patch with
 * strict RFC 6902 semantics and finally validate the Pod against the Kubernetes schema.
 * (https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/)
 *
 * What the real API server does beyond this (seen by test/cluster against kube-apiserver v1.37.2):
 * the pod sent to webhooks is already defaulted and mutated by the built-in plugins (ServiceAccount's
 * kube-api-access volume, DefaultTolerationSeconds); after a webhook's patch it re-runs the built-in
 * mutating plugins (the ServiceAccount plugin mounts the token into the containers we added) and
 * re-applies defaults (imagePullPolicy, terminationMessagePath/Policy, ...); the query is
 * `?timeout=<timeoutSeconds>s`. Fast tests here compare our patch only, so they stay as they are.
 */
import { request } from 'node:https';
import { connect, constants as h2, type ClientHttp2Session } from 'node:http2';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { Operation } from 'fast-json-patch';
import { applyPatchStrict } from '../../src/core/patch/apply-strict.js';
import type { Pod } from '../../src/core/pod-types.js';
import { validatePod } from '../helpers/pod-schema.js';
import type { FakeApiServer } from './fake-apiserver.js';

interface Requirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Requirement[];
}

export interface MutatingWebhook {
  name: string;
  clientConfig: {
    service: { name: string; namespace: string; path?: string; port?: number };
    caBundle?: string;
  };
  rules: {
    operations: string[];
    apiGroups: string[];
    apiVersions: string[];
    resources: string[];
  }[];
  namespaceSelector?: Selector;
  objectSelector?: Selector;
  failurePolicy?: 'Fail' | 'Ignore';
  timeoutSeconds?: number;
  admissionReviewVersions: string[];
  sideEffects: string;
}

export async function readWebhooks(path: string): Promise<MutatingWebhook[]> {
  const doc = parse(await readFile(path, 'utf8')) as { webhooks: MutatingWebhook[] };
  return doc.webhooks;
}

/** Label selector semantics (k8s.io/apimachinery labels.Selector): every requirement must hold. */
export function selectorMatches(
  selector: Selector | undefined,
  labels: Record<string, string>,
): boolean {
  if (selector === undefined) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  return (selector.matchExpressions ?? []).every((r) => {
    const has = Object.hasOwn(labels, r.key);
    const value = labels[r.key];
    switch (r.operator) {
      case 'In':
        return has && value !== undefined && (r.values ?? []).includes(value);
      case 'NotIn':
        return !has || value === undefined || !(r.values ?? []).includes(value);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
    }
  });
}

export class AdmissionRejected extends Error {
  constructor(
    readonly webhook: string,
    readonly status: { code?: number; message?: string } | undefined,
  ) {
    super(`admission webhook "${webhook}" denied the request: ${status?.message ?? ''}`);
  }
}

export class WebhookCallFailed extends Error {}

export interface AdmissionCall {
  webhook: string;
  patched: boolean;
  warnings: string[];
}

export interface AdmissionResult {
  pod: Pod;
  calls: AdmissionCall[];
}

export interface AdmissionChainOptions {
  api: FakeApiServer;
  webhooks: MutatingWebhook[];
  /** PEM the API server trusts for the webhook (the MWC's caBundle). */
  caBundle: string;
  /** Where `clientConfig.service` resolves to (the Service's endpoints). */
  endpoint: { host: string; port: number };
  /**
   * `h2` (default): one HTTP/2 connection reused across calls, as the API server's webhook client
   * negotiates by ALPN. `http1`: a fresh HTTP/1.1 connection per call.
   */
  protocol?: 'h2' | 'http1';
}

interface ReviewResponseBody {
  apiVersion?: string;
  kind?: string;
  response?: {
    uid?: string;
    allowed?: boolean;
    patch?: string;
    patchType?: string;
    status?: { code?: number; message?: string };
    warnings?: string[];
  };
}

export class AdmissionChain {
  private session: ClientHttp2Session | undefined;

  constructor(private readonly opts: AdmissionChainOptions) {}

  /** ALPN protocol of the reused connection (`h2` once a call has been made over HTTP/2). */
  negotiatedProtocol(): string | undefined {
    return this.session?.alpnProtocol;
  }

  /** Closes the reused HTTP/2 connection. */
  close(): void {
    this.session?.close();
    this.session = undefined;
  }

  /** Admits a pod created in `namespace`, as `kubectl create` would see it. */
  async createPod(namespace: string, input: Pod): Promise<AdmissionResult> {
    const ns = this.opts.api.get('namespaces', namespace);
    if (ns === undefined) throw new Error(`namespaces "${namespace}" not found`);
    const nsLabels = { ...(ns.metadata.labels ?? {}), 'kubernetes.io/metadata.name': namespace };
    let pod: Pod = structuredClone(input);
    const calls: AdmissionCall[] = [];
    for (const webhook of this.opts.webhooks) {
      if (!this.applies(webhook, nsLabels, pod)) continue;
      const call = await this.call(webhook, namespace, pod);
      calls.push({ webhook: webhook.name, patched: call.ops.length > 0, warnings: call.warnings });
      if (call.ops.length > 0) pod = applyPatchStrict(pod, call.ops);
    }
    validatePod(pod);
    return { pod, calls };
  }

  private applies(webhook: MutatingWebhook, nsLabels: Record<string, string>, pod: Pod): boolean {
    const ruleMatches = webhook.rules.some(
      (r) =>
        r.operations.includes('CREATE') &&
        r.apiGroups.includes('') &&
        r.apiVersions.includes('v1') &&
        r.resources.includes('pods'),
    );
    return (
      ruleMatches &&
      selectorMatches(webhook.namespaceSelector, nsLabels) &&
      selectorMatches(webhook.objectSelector, pod.metadata?.labels ?? {})
    );
  }

  private async call(
    webhook: MutatingWebhook,
    namespace: string,
    pod: Pod,
  ): Promise<{ ops: Operation[]; warnings: string[] }> {
    const uid = randomUUID();
    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid,
        kind: { group: '', version: 'v1', kind: 'Pod' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        requestKind: { group: '', version: 'v1', kind: 'Pod' },
        requestResource: { group: '', version: 'v1', resource: 'pods' },
        name: pod.metadata?.name ?? '',
        namespace,
        operation: 'CREATE',
        userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
        object: pod,
        oldObject: null,
        dryRun: false,
        options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
      },
    };
    const timeoutSeconds = webhook.timeoutSeconds ?? 10;
    let body: ReviewResponseBody;
    try {
      body = await this.post(
        webhook,
        `${webhook.clientConfig.service.path ?? '/'}?timeout=${timeoutSeconds}s`,
        review,
        timeoutSeconds,
      );
    } catch (err: unknown) {
      if (webhook.failurePolicy === 'Ignore') return { ops: [], warnings: [] };
      throw new WebhookCallFailed(`failed calling webhook "${webhook.name}": ${String(err)}`);
    }
    const response = body.response;
    // The API server's checks of a v1 response (admission/v1 VerifyAdmissionResponse).
    if (body.apiVersion !== 'admission.k8s.io/v1' || body.kind !== 'AdmissionReview') {
      throw new WebhookCallFailed(
        `webhook "${webhook.name}" answered ${body.apiVersion}/${body.kind}`,
      );
    }
    if (response?.uid !== uid)
      throw new WebhookCallFailed(`webhook "${webhook.name}" echoed a wrong uid`);
    if ((response.patch === undefined) !== (response.patchType === undefined)) {
      throw new WebhookCallFailed(`webhook "${webhook.name}" sent patch and patchType unpaired`);
    }
    if (response.allowed !== true) throw new AdmissionRejected(webhook.name, response.status);
    if (response.patch === undefined) return { ops: [], warnings: response.warnings ?? [] };
    if (response.patchType !== 'JSONPatch') {
      throw new WebhookCallFailed(`webhook "${webhook.name}" sent patchType ${response.patchType}`);
    }
    const ops = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as Operation[];
    return { ops, warnings: response.warnings ?? [] };
  }

  private post(
    webhook: MutatingWebhook,
    path: string,
    review: unknown,
    timeoutSeconds: number,
  ): Promise<ReviewResponseBody> {
    return (this.opts.protocol ?? 'h2') === 'h2'
      ? this.postH2(webhook, path, review, timeoutSeconds)
      : this.postHttp1(webhook, path, review, timeoutSeconds);
  }

  private h2Session(webhook: MutatingWebhook): ClientHttp2Session {
    if (this.session !== undefined && !this.session.closed && !this.session.destroyed) {
      return this.session;
    }
    const { service } = webhook.clientConfig;
    const session = connect(`https://${this.opts.endpoint.host}:${this.opts.endpoint.port}`, {
      ca: this.opts.caBundle,
      servername: `${service.name}.${service.namespace}.svc`,
    });
    session.on('error', () => undefined);
    session.unref();
    this.session = session;
    return session;
  }

  private postH2(
    webhook: MutatingWebhook,
    path: string,
    review: unknown,
    timeoutSeconds: number,
  ): Promise<ReviewResponseBody> {
    const payload = JSON.stringify(review);
    return new Promise((resolve, reject) => {
      const stream = this.h2Session(webhook).request({
        [h2.HTTP2_HEADER_METHOD]: 'POST',
        [h2.HTTP2_HEADER_PATH]: path,
        [h2.HTTP2_HEADER_CONTENT_TYPE]: 'application/json',
        [h2.HTTP2_HEADER_ACCEPT]: 'application/json, */*',
      });
      stream.setTimeout(timeoutSeconds * 1000, () =>
        stream.close(h2.NGHTTP2_CANCEL, () => reject(new Error('webhook call timed out'))),
      );
      let status = 0;
      const chunks: Buffer[] = [];
      stream.on('response', (headers) => {
        status = Number(headers[h2.HTTP2_HEADER_STATUS]);
      });
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (status !== 200) {
          reject(new Error(`HTTP ${status}: ${text}`));
          return;
        }
        try {
          resolve(JSON.parse(text) as ReviewResponseBody);
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      stream.on('error', reject);
      stream.end(payload);
    });
  }

  private postHttp1(
    webhook: MutatingWebhook,
    path: string,
    review: unknown,
    timeoutSeconds: number,
  ): Promise<ReviewResponseBody> {
    const { service } = webhook.clientConfig;
    const payload = JSON.stringify(review);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.opts.endpoint.host,
          port: this.opts.endpoint.port,
          method: 'POST',
          path,
          // The API server verifies the certificate for the Service's DNS name.
          servername: `${service.name}.${service.namespace}.svc`,
          ca: this.opts.caBundle,
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, */*',
            'content-length': Buffer.byteLength(payload),
          },
          timeout: timeoutSeconds * 1000,
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (res.statusCode !== 200) {
              reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString()}`));
              return;
            }
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReviewResponseBody);
            } catch (err) {
              reject(err instanceof Error ? err : new Error(String(err)));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('webhook call timed out')));
      req.on('error', reject);
      req.end(payload);
    });
  }
}
