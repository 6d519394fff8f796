/**
 * The stock chart templates of each release, read from ../shared at test time, rendered by the
 * engine for every corpus input and compared with the native renderers (which implement master's
 * templates). Master's templates must match exactly; the older releases' differences are listed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseYamlDocument } from '../../../../src/core/yaml.js';
import { describe, expect, it } from 'vitest';
import type { RenderContext } from '../../../../src/core/contracts.js';
import type { JsonValue } from '../../../../src/core/json.js';
import type { Pod } from '../../../../src/core/pod-types.js';
import { proxyIds, workloadMetaFromPod } from '../../../../src/core/pipeline/meta.js';
import { resolveProxyConfig } from '../../../../src/core/proxy-config.js';
import { renderTemplate } from '../../../../src/core/render/index.js';
import {
  buildTemplateData,
  compileTemplate,
  type CompiledTemplate,
} from '../../../../src/core/template/index.js';
import { getPodTemplate, listWorkloads } from '../../../../src/core/pod-template.js';
import {
  firstDifference,
  loadCases,
  normalise,
  parseDocuments,
} from '../../../conformance/harness.js';
import { configFor, readCorpusFile } from '../../../helpers/corpus.js';
import { SHARED_DIR } from '../../../helpers/shared.js';

const CONFIGMAPS = join(SHARED_DIR, 'conformance', 'istio-configmaps');
const RELEASES = ['master', '1.30.3', '1.29.6'] as const;
const FILES = {
  sidecar: 'injection-template.yaml',
  gateway: 'gateway-injection-template.yaml',
  'grpc-simple': 'grpc-simple.yaml',
  'grpc-agent': 'grpc-agent.yaml',
} as const;
type Name = keyof typeof FILES;

const available = existsSync(CONFIGMAPS);
if (!available) console.log(`skipped stock template tests: ${CONFIGMAPS} is absent`);

function contexts(): { label: string; ctx: RenderContext }[] {
  const out: { label: string; ctx: RenderContext }[] = [];
  for (const c of loadCases()) {
    if (c.expectedError !== null) continue;
    const config = configFor(c);
    for (const doc of parseDocuments(readCorpusFile(c.in))) {
      for (const workload of listWorkloads(doc)) {
        const pod: Pod = getPodTemplate(workload);
        const namespace = pod.metadata?.namespace || 'default';
        const { proxyConfig, issues } = resolveProxyConfig(
          config.mesh,
          pod.metadata?.annotations ?? {},
        );
        if (issues.length > 0) continue;
        const meta = workloadMetaFromPod(pod, namespace);
        const ids = proxyIds(false, undefined);
        out.push({
          label: `${c.testName}/${pod.metadata?.name ?? workload.kind}`,
          ctx: {
            pod: { ...pod, metadata: { ...(pod.metadata ?? {}), namespace } },
            typeMeta: meta.typeMeta,
            deploymentMeta: meta.deploymentMeta,
            proxyConfig,
            mesh: config.mesh,
            values: config.values,
            revision: config.revision,
            nativeSidecars: c.nativeSidecarsGlobal,
            proxyUID: ids.uid,
            proxyGID: ids.gid,
            compliancePolicy: '',
          },
        });
      }
    }
  }
  return out;
}

/** Probe counters are non-pointer omitempty int32s in k8s.io/api: Go's typed pod drops a 0. */
const OMITEMPTY_INTS = new Set([
  'initialDelaySeconds',
  'periodSeconds',
  'timeoutSeconds',
  'successThreshold',
  'failureThreshold',
]);

function typed(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(typed);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, JsonValue> = {};
  for (const [k, e] of Object.entries(v)) {
    // EnvVar.value is omitempty too.
    if (e === undefined || (OMITEMPTY_INTS.has(k) && e === 0) || (k === 'value' && e === ''))
      continue;
    out[k] = typed(e);
  }
  return out;
}

/** First difference between the engine's rendering and the native renderer, or undefined. */
function compare(t: CompiledTemplate, name: Name, ctx: RenderContext): string | undefined {
  let engine: JsonValue;
  try {
    // Read as istiod reads the rendered text: Go YAML (YAML 1.1), a repeated key's last value wins.
    const parsed = parseYamlDocument(t.render(buildTemplateData(ctx)), {
      uniqueKeys: false,
      resolution: 'go',
    });
    if (!parsed.ok) return `rendered YAML does not parse: ${parsed.errors[0] ?? ''}`;
    engine = parsed.value as JsonValue;
  } catch (e) {
    return `engine error: ${e instanceof Error ? e.message : String(e)}`;
  }
  let native: JsonValue;
  try {
    native = renderTemplate(name, ctx);
  } catch (e) {
    return `native error: ${e instanceof Error ? e.message : String(e)}`;
  }
  const d = firstDifference(normalise(typed(engine)), normalise(typed(native)));
  if (d === undefined) return undefined;
  const show = (v: JsonValue | undefined): string =>
    v === undefined ? '<absent>' : JSON.stringify(v).slice(0, 160);
  return `${d.path}: engine=${show(d.ours)} native=${show(d.golden)}`;
}

describe.skipIf(!available)('stock templates: engine vs native renderers', () => {
  const all = available ? contexts() : [];
  const report: string[] = [];

  for (const release of RELEASES) {
    for (const name of Object.keys(FILES) as Name[]) {
      it(`${release} ${name}`, () => {
        const text = readFileSync(join(CONFIGMAPS, release, 'chart-files', FILES[name]), 'utf8');
        const t = compileTemplate(text);
        const diffs: string[] = [];
        for (const { label, ctx } of all) {
          const d = compare(t, name, ctx);
          if (d !== undefined) diffs.push(`${label}: ${d}`);
        }
        const paths = [
          ...new Set(diffs.map((d) => d.replace(/^[^:]*: /, '').replace(/: engine.*/, ''))),
        ];
        const line = `${release} ${name}: ${all.length - diffs.length}/${all.length} pods identical${
          diffs.length > 0
            ? `; first: ${diffs[0]}; differing paths: ${paths.slice(0, 6).join(' ')}`
            : ''
        }`;
        report.push(line);
        console.log(line);
        if (process.env.TEMPLATE_DIFFS)
          for (const d of diffs) console.log(`  ${release} ${name} ${d}`);
        expect(all.length).toBeGreaterThan(100);
        // Every stock template of every release renders for every corpus pod.
        expect(diffs.filter((d) => d.includes('engine error')).slice(0, 3)).toEqual([]);
        // The native renderers implement master's sidecar and grpc-simple texts exactly; their
        // gateway and grpc-agent renderers borrow sidecar behaviour the chart texts do not have.
        if (release === 'master' && (name === 'sidecar' || name === 'grpc-simple')) {
          expect(diffs.slice(0, 5)).toEqual([]);
        }
      });
    }
  }
});
