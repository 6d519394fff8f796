/**
 * Istio's ConfigMaps exactly as Helm renders them (../shared/conformance/istio-configmaps: master,
 * 1.30.3, 1.29.6) load, and their template text decides what is injected: a user's edit to the
 * sidecar text appears in the pod, a broken text is refused at load with Go's parse error while
 * the last good configuration keeps serving (reload metric and log line), `templates: {}` fails
 * injection with istiod's wording, and annotation values cannot add structure to the pod.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { loadInjectionConfig, type ConfigSourceTexts } from '../../../src/core/config/load.js';
import type { InjectionConfig } from '../../../src/core/config/types.js';
import { inject } from '../../../src/core/inject.js';
import { isJsonObject, type JsonValue } from '../../../src/core/json.js';
import type { Container, Pod } from '../../../src/core/pod-types.js';
import { createReloadingConfig } from '../../../src/config-sources/reloading.js';
import { GENERATED_ANNOTATION_KEYS, INJECTION_PAYLOADS } from '../../helpers/generated-pods.js';
import { SHARED_DIR } from '../../helpers/shared.js';

const DIR = join(SHARED_DIR, 'conformance', 'istio-configmaps');
const RELEASES = ['master', '1.30.3', '1.29.6'] as const;
const available = existsSync(DIR);
if (!available) console.log(`skipped cluster template tests: ${DIR} is absent`);

function texts(release: string): Required<Pick<ConfigSourceTexts, 'config' | 'values' | 'mesh'>> {
  const read = (f: string): string => readFileSync(join(DIR, release, f), 'utf8');
  return { config: read('config'), values: read('values'), mesh: read('mesh') };
}

function load(sources: ConfigSourceTexts): InjectionConfig {
  const r = loadInjectionConfig(sources);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

const POD: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } },
  spec: { containers: [{ name: 'app', image: 'nginx', ports: [{ containerPort: 80 }] }] },
};

function injected(config: InjectionConfig, pod: Pod = POD): Pod {
  return inject({
    pod,
    namespace: 'shop',
    config,
    cluster: { nativeSidecars: false },
    mode: 'webhook',
  }).pod;
}

function proxy(pod: Pod): Container | undefined {
  return pod.spec?.containers?.find((c) => c.name === 'istio-proxy');
}

describe.skipIf(!available)('Istio ConfigMaps as clusters hold them', () => {
  it.each(RELEASES)('%s loads with no error and runs its own templates', (release) => {
    const result = loadInjectionConfig(texts(release));
    expect(result.ok ? [] : result.issues).toEqual([]);
    if (!result.ok) return;
    expect(result.config.injector.injectedAnnotations).toEqual({});
    const names = [...(result.config.templates?.keys() ?? [])];
    expect(names).toEqual(
      expect.arrayContaining(['sidecar', 'gateway', 'grpc-simple', 'grpc-agent']),
    );
    const pod = injected(result.config);
    expect(proxy(pod)?.image).toMatch(/proxyv2/);
  });

  it("a user's edit to the sidecar text (env var, volume, image) appears in the pod", () => {
    const base = texts('master');
    // Template lines sit 4 columns deeper in `config` (under `templates:` / `sidecar: |`).
    const config = base.config
      .replace(
        '\n        - name: POD_NAME\n',
        '\n        - name: EDITED_BY_USER\n          value: "yes"\n        - name: POD_NAME\n',
      )
      .replace(
        '\n      volumes:\n      - emptyDir:\n        name: workload-socket\n',
        '\n      volumes:\n      - name: user-edit\n        emptyDir: {}\n      - emptyDir:\n        name: workload-socket\n',
      )
      .replace(
        '\n        image: "{{ .ProxyImage }}"\n',
        '\n        image: "example.com/edited/proxy:1"\n',
      );
    expect(config).not.toBe(base.config);
    const loaded = load({ ...base, config });
    expect(loaded.templates?.get('sidecar')?.kind).toBe('engine');
    const pod = injected(loaded);
    expect(proxy(pod)?.env).toContainEqual({ name: 'EDITED_BY_USER', value: 'yes' });
    expect(proxy(pod)?.image).toBe('example.com/edited/proxy:1');
    expect(pod.spec?.volumes?.map((v) => v.name)).toContain('user-edit');
    // The unedited text gives none of it.
    const stock = injected(load(base));
    expect(proxy(stock)?.env?.map((e) => e.name)).not.toContain('EDITED_BY_USER');
  });

  it("a broken template is refused at load with Go's error; the last good config keeps serving", () => {
    const base = texts('master');
    const broken = base.config.replace(
      '    - name: POD_NAME\n',
      '    {{ if .Values }}\n    - name: POD_NAME\n',
    );
    const result = loadInjectionConfig({ ...base, config: broken });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path)).toEqual(['config.templates.sidecar']);
    expect(result.issues[0]?.message).toMatch(
      /^failed to parse template: template: inject:\d+: unexpected EOF$/,
    );
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    const registry = new Registry();
    const reloading = createReloadingConfig({
      load: (s) => loadInjectionConfig(s),
      logger,
      registry,
      origin: 'test',
    });
    expect(reloading.apply(base)).toBe(true);
    const good = reloading.current();
    expect(reloading.apply({ ...base, config: broken })).toBe(false);
    expect(reloading.current()).toBe(good);
    expect(lines.join('')).toMatch(/config\.templates\.sidecar.*unexpected EOF/);
    expect(lines.join('')).toContain('keeping the last good configuration');
    return registry.metrics().then((text) => {
      expect(text).toMatch(/sidecar_injector_config_reload_errors_total 1/);
    });
  });

  it('templates: {} loads, and injection fails with istiod\'s "not found" wording', () => {
    const config = load({ config: 'templates: {}\n' });
    expect(() => injected(config)).toThrow(/requested template "sidecar" not found/);
  });
});

/** The pod's shape: every path with the kind of its value, annotation values left out. */
function shape(value: JsonValue | undefined, path = '', out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v, i) => shape(v, `${path}[${i}]`, out));
  else if (isJsonObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (path === '.metadata.annotations') out.push(`${path}.${k}`);
      else shape(v, `${path}.${k}`, out);
    }
  } else out.push(`${path}:${value === null ? 'null' : typeof value}`);
  return out.sort();
}

describe.skipIf(!available)('annotation values cannot inject structure', () => {
  it.each(RELEASES)(
    '%s: YAML and JSON payloads in every annotation the templates read',
    (release) => {
      // The engine everywhere: a hostile value never takes the native fast path.
      const config = load(texts(release));
      const cni = load({
        ...texts(release),
        set: ['values.pilot.cni.enabled=true', 'values.pilot.cni.provider=multus'],
      });
      const problems: string[] = [];
      let injectedCount = 0;
      for (const cfg of [config, cni]) {
        for (const key of GENERATED_ANNOTATION_KEYS) {
          const withValue = (v: string): Pod => ({
            ...POD,
            metadata: { ...POD.metadata, annotations: { [key]: v } },
          });
          let benign: string[] | undefined;
          try {
            benign = shape(injected(cfg, withValue('plain')));
          } catch {
            benign = undefined;
          }
          for (const payload of INJECTION_PAYLOADS) {
            let pod: Pod;
            try {
              pod = injected(cfg, withValue(payload));
            } catch (e) {
              // Refused (invalid annotation, or the rendered YAML does not parse): nothing injected.
              const code = (e as { code?: string }).code ?? '';
              if (
                ![
                  'INJ_ERR_INVALID_ANNOTATION',
                  'INJ_ERR_TEMPLATE_RENDER',
                  'INJ_ERR_PROMETHEUS_CONFIG',
                ].includes(code)
              )
                problems.push(`${key} ${JSON.stringify(payload)}: ${code} ${(e as Error).message}`);
              continue;
            }
            injectedCount++;
            const got = shape(pod);
            if (benign !== undefined && JSON.stringify(got) !== JSON.stringify(benign)) {
              const extra = got.filter((p) => !benign.includes(p));
              problems.push(
                `${key} ${JSON.stringify(payload)}: new structure ${extra.slice(0, 3).join(', ')}`,
              );
            }
          }
        }
      }
      expect(injectedCount).toBeGreaterThan(0);
      expect(problems).toEqual([]);
    },
    180_000, // fixed payload sets: past the default 30 s only when other suites share the cores
  );
});
