/**
 * Builds RenderContexts from the shared conformance corpus: a case's input workloads, its
 * settings (set flags, IstioOperator overlay, mesh override, setup) and the matching golden pods.
 * Everything is read from ../shared at run time.
 */
import { parseAllDocuments } from 'yaml';
import {
  configFor,
  readCasesFile,
  readCorpusFile,
  type CasesFile,
  type CorpusCase,
} from '../../../helpers/corpus.js';
import { resolveProxyConfig } from '../../../../src/core/proxy-config.js';
import type { RenderContext } from '../../../../src/core/contracts.js';
import { isJsonObject, type JsonObject } from '../../../../src/core/json.js';
import type { Pod } from '../../../../src/core/pod-types.js';

export type { CorpusCase };

export function cases(): CasesFile {
  return readCasesFile();
}

export function corpusCase(index: number): CorpusCase {
  const found = cases().cases.find((c) => c.index === index);
  if (found === undefined) throw new Error(`no corpus case ${index}`);
  return found;
}

interface Workload {
  kind: string;
  apiVersion: string;
  name: string;
  namespace: string;
  pod: Pod;
}

/** Workload documents of a manifest file (List items expanded), with their pod template. */
export function workloads(file: string): Workload[] {
  const out: Workload[] = [];
  const visit = (doc: JsonObject) => {
    const kind = typeof doc.kind === 'string' ? doc.kind : '';
    if (kind === 'List' && Array.isArray(doc.items)) {
      for (const item of doc.items) if (isJsonObject(item)) visit(item);
      return;
    }
    const meta = isJsonObject(doc.metadata) ? doc.metadata : {};
    const spec = isJsonObject(doc.spec) ? doc.spec : {};
    let pod: Pod | undefined;
    if (kind === 'Pod') pod = doc;
    else if (kind === 'CronJob') return;
    else if (isJsonObject(spec.template)) pod = spec.template;
    if (pod === undefined) return;
    out.push({
      kind,
      apiVersion: typeof doc.apiVersion === 'string' ? doc.apiVersion : '',
      name: typeof meta.name === 'string' ? meta.name : '',
      namespace: typeof meta.namespace === 'string' ? meta.namespace : '',
      pod,
    });
  };
  for (const doc of parseAllDocuments(readCorpusFile(file))) {
    const value: unknown = doc.toJS();
    if (isJsonObject(value)) visit(value);
  }
  return out;
}

/** kube-inject's deployment/type meta (spec §4.1.1 for bare pods, the workload otherwise). */
function identity(w: Workload): Pick<RenderContext, 'typeMeta' | 'deploymentMeta'> {
  if (w.kind !== 'Pod') {
    return {
      typeMeta: { kind: w.kind, apiVersion: w.apiVersion },
      deploymentMeta: { name: w.name, namespace: w.namespace },
    };
  }
  const meta = w.pod.metadata ?? {};
  const owner = (meta.ownerReferences ?? []).find((o) => o.controller === true);
  if ((meta.generateName ?? '') !== '' && owner !== undefined) {
    return {
      typeMeta: { kind: owner.kind ?? '', apiVersion: owner.apiVersion ?? '' },
      deploymentMeta: { name: owner.name ?? w.name, namespace: w.namespace },
    };
  }
  return {
    typeMeta: { kind: 'Pod', apiVersion: 'v1' },
    deploymentMeta: { name: w.name, namespace: w.namespace },
  };
}

export function renderContexts(c: CorpusCase): RenderContext[] {
  const config = configFor(c);
  const openshift = c.setup?.PLATFORM === 'openshift';
  return workloads(c.in).map((w) => {
    const { proxyConfig } = resolveProxyConfig(config.mesh, w.pod.metadata?.annotations ?? {});
    return {
      pod: w.pod,
      ...identity(w),
      proxyConfig,
      mesh: config.mesh,
      values: config.values,
      revision: config.revision,
      nativeSidecars: c.nativeSidecarsGlobal,
      // The harness namespace carries openshift.io/sa.scc.uid-range=1000620000/10000.
      proxyUID: openshift ? 1000629999 : 1337,
      proxyGID: openshift ? 1000629999 : 1337,
      compliancePolicy: c.setup?.COMPLIANCE_POLICY ?? '',
    };
  });
}

/** Pod templates of the golden file, in document order. */
export function goldenPods(c: CorpusCase): Pod[] {
  if (c.want === null) return [];
  return workloads(c.want).map((w) => w.pod);
}
