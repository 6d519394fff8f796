/**
 * The cluster side of `sidecar-injector tag`: lists, creates, replaces and deletes
 * MutatingWebhookConfigurations and lists namespaces by label, each call bounded in time. API
 * failures become INJ_ERR_KUBERNETES_API naming the object and the HTTP status; a write that lost
 * a race (409) becomes INJ_ERR_TAG_CONFLICT.
 */
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  type V1MutatingWebhookConfiguration,
} from '@kubernetes/client-node';
import type { TagCluster } from '../cli/tag.js';
import type { TagWebhookConfiguration } from '../core/revision-tags.js';
import { REVISION_LABEL } from '../core/webhook-selectors.js';
import { InjectorError } from '../errors.js';
import { loadKubeConfig, requestOptions, statusCodeOf } from './kubeconfig.js';

const CALL_TIMEOUT_MS = 10_000;

function apiError(what: string, err: unknown): InjectorError {
  const status = statusCodeOf(err);
  if (status === 409) {
    return new InjectorError(
      'INJ_ERR_TAG_CONFLICT',
      `${what}: the object changed or appeared meanwhile (409 Conflict); run the command again`,
      { cause: err },
    );
  }
  const hint =
    status === 403
      ? ' (forbidden: this needs get/list/create/update/delete on mutatingwebhookconfigurations and list on namespaces)'
      : '';
  const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return new InjectorError(
    'INJ_ERR_KUBERNETES_API',
    `${what} failed${status === undefined ? '' : ` (HTTP ${status})`}${hint}: ${detail}`,
    { cause: err, details: [{ field: what, reason: detail ?? '' }] },
  );
}

const opts = () => requestOptions({ signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });

/** The API object without the server's bookkeeping, in the shape the planner reads. */
function toPlain(obj: V1MutatingWebhookConfiguration): TagWebhookConfiguration {
  const plain = JSON.parse(JSON.stringify(obj)) as TagWebhookConfiguration;
  delete plain.metadata.managedFields;
  delete plain.metadata.creationTimestamp;
  delete plain.metadata.uid;
  delete plain.metadata.generation;
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    ...plain,
  };
}

/**
 * client-node's models keep caBundle as a string (base64) and dates as Date; the planner's JSON
 * passes through ObjectSerializer unchanged for these fields.
 */
const asBody = (c: TagWebhookConfiguration): V1MutatingWebhookConfiguration =>
  c as unknown as V1MutatingWebhookConfiguration;

export function connectTagCluster(kubeconfigPath: string | undefined): Promise<TagCluster> {
  const kubeConfig = loadKubeConfig(kubeconfigPath);
  const admission = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const cluster: TagCluster = {
    async listWebhookConfigurations() {
      try {
        const list = await admission.listMutatingWebhookConfiguration({}, opts());
        return list.items.map(toPlain);
      } catch (err) {
        throw apiError('listing MutatingWebhookConfigurations', err);
      }
    },
    async namespacesLabelled(value) {
      try {
        const list = await core.listNamespace(
          { labelSelector: `${REVISION_LABEL}=${value}` },
          opts(),
        );
        return list.items.map((n) => n.metadata?.name ?? '').filter((n) => n !== '');
      } catch (err) {
        throw apiError(`listing namespaces labelled ${REVISION_LABEL}=${value}`, err);
      }
    },
    async create(c) {
      try {
        await admission.createMutatingWebhookConfiguration({ body: asBody(c) }, opts());
      } catch (err) {
        throw apiError(`creating MutatingWebhookConfiguration ${c.metadata.name}`, err);
      }
    },
    async replace(c) {
      try {
        await admission.replaceMutatingWebhookConfiguration(
          { name: c.metadata.name, body: asBody(c) },
          opts(),
        );
      } catch (err) {
        throw apiError(`updating MutatingWebhookConfiguration ${c.metadata.name}`, err);
      }
    },
    async remove(name) {
      try {
        await admission.deleteMutatingWebhookConfiguration({ name }, opts());
      } catch (err) {
        if (statusCodeOf(err) === 404) return;
        throw apiError(`deleting MutatingWebhookConfiguration ${name}`, err);
      }
    },
  };
  return Promise.resolve(cluster);
}
