/**
 * The volumes and mounts every proxy uses: pod info, token, CA root, CRL.
 */
import { type JsonObject } from '../json.js';
import type { Values } from '../config/types.js';
import { valueObject, valueOr, valueString } from './values.js';

export function volumeMount(name: string, mountPath: string, readOnly = false): JsonObject {
  return readOnly ? { name, mountPath, readOnly: true } : { name, mountPath };
}

export function podInfoVolume(): JsonObject {
  return {
    name: 'istio-podinfo',
    downwardAPI: {
      items: [
        { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
        { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
      ],
    },
  };
}

export function tokenVolume(values: Values): JsonObject {
  return {
    name: 'istio-token',
    projected: {
      sources: [
        {
          serviceAccountToken: {
            path: 'istio-token',
            expirationSeconds: 43200,
            audience: valueString(values, 'global.sds.token.aud'),
          },
        },
      ],
    },
  };
}

/** The CA root volume: a ConfigMap, or a ClusterTrustBundle projection when that API is enabled. */
export function caCertVolume(values: Values): JsonObject {
  const bundle = valueString(values, 'global.trustBundleName');
  const env = valueObject(values, 'pilot.env');
  const trustBundles = env?.ENABLE_CLUSTER_TRUST_BUNDLE_API;
  if (trustBundles === true || trustBundles === 'true') {
    return {
      name: 'istiod-ca-cert',
      projected: {
        sources: [
          {
            clusterTrustBundle: {
              name: `istio.io:istiod-ca:${bundle === '' ? 'root-cert' : bundle}`,
              path: 'root-cert.pem',
            },
          },
        ],
      },
    };
  }
  return {
    name: 'istiod-ca-cert',
    configMap: { name: bundle === '' ? 'istio-ca-root-cert' : bundle },
  };
}

export function crlVolume(values: Values): JsonObject {
  return {
    name: 'istio-ca-crl',
    configMap: { name: valueOr(values, 'pilot.crlConfigMapName', 'istio-ca-crl'), optional: true },
  };
}
