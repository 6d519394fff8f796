import { describe, expect, it } from 'vitest';
import { annotationWarnings } from '../../../../src/core/annotations/warnings.js';

describe('annotationWarnings', () => {
  it.each([
    ['sidecar.istio.io/nativeSidecar', 'maybe', 'using the cluster default'],
    ['sidecar.istio.io/nativeSidecar', 'True', 'want "true" or "false"'],
    ['sidecar.istio.io/capNetBindService', 'yes', 'treated as "false"'],
    ['sidecar.istio.io/rewriteAppHTTPProbers', 'perhaps', 'using the configured default'],
    ['prometheus.io/scrape', 'nah', 'treated as "true"'],
    ['sidecar.istio.io/proxyImage', 'proxyv2', 'using the configured image'],
  ])('%s=%s is reported', (key, value, note) => {
    const [warning, ...rest] = annotationWarnings({ [key]: value });
    expect(rest).toEqual([]);
    expect(warning).toContain(`${key}="${value}"`);
    expect(warning).toContain(note);
  });

  it.each([
    ['sidecar.istio.io/nativeSidecar', 'true'],
    ['sidecar.istio.io/nativeSidecar', 'false'],
    ['sidecar.istio.io/capNetBindService', 'true'],
    ['sidecar.istio.io/rewriteAppHTTPProbers', 'F'],
    ['sidecar.istio.io/rewriteAppHTTPProbers', '1'],
    ['prometheus.io/scrape', 'false'],
    ['sidecar.istio.io/proxyImage', 'docker.io/istio/proxyv2:1.32.0'],
    ['app.kubernetes.io/name', 'whatever'],
  ])('%s=%s is understood', (key, value) => {
    expect(annotationWarnings({ [key]: value })).toEqual([]);
  });

  it('keeps every warning within 120 characters and reports each annotation once', () => {
    const long = 'x'.repeat(500);
    const warnings = annotationWarnings({
      'sidecar.istio.io/nativeSidecar': long,
      'sidecar.istio.io/rewriteAppHTTPProbers': long,
      'prometheus.io/scrape': long,
    });
    expect(warnings).toHaveLength(3);
    for (const warning of warnings) expect(warning.length).toBeLessThanOrEqual(120);
  });
});
