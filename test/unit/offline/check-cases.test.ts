/**
 * `check` explains every server-side decision case of Istio's TestInjectRequired (cases.json,
 * webhookTests.TestInjectRequired): one Pod manifest per case, the policy and selectors in a
 * `config` file under --config-dir, and the expected reason written down per case from the rules
 * of spec §2.2 (label before annotation, never before always, then the policy).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCheck } from '../../../src/cli/check.js';
import { EXIT } from '../../../src/cli/io.js';
import type { LabelSelector } from '../../../src/core/config/types.js';
import { parseSelectorString } from '../../../src/core/selectors.js';
import { readCasesJson } from '../../helpers/corpus.js';
import { captureIO } from '../cli/capture-io.js';

interface SelectorCase {
  matchLabels?: Record<string, string>;
  selectorString?: string;
}

interface InjectRequiredCase {
  name: string;
  policy: string;
  hostNetwork: boolean;
  namespace: string;
  podLabels?: Record<string, string>;
  podAnnotations?: Record<string, string>;
  neverInjectSelector?: SelectorCase[];
  alwaysInjectSelector?: SelectorCase[];
  wantInject: boolean;
}

/** The reason each case is decided by, in table order. */
const EXPECTED_REASONS: readonly string[] = [
  'policy-enabled',
  'policy-enabled',
  'pod-annotation-opt-in',
  'pod-annotation-opt-out',
  'policy-disabled',
  'policy-disabled',
  'pod-annotation-opt-in',
  'pod-annotation-opt-out',
  'policy-enabled', // annotation "yes" is ignored
  'policy-disabled', // annotation "on" is ignored
  'policy-enabled', // label "random" is ignored
  'host-network',
  'invalid-policy',
  'policy-enabled', // always selector does not match: no labels
  'policy-enabled', // always selector does not match: foo=bar1
  'policy-disabled',
  'always-inject-selector',
  'policy-enabled',
  'never-inject-selector',
  'policy-disabled',
  'never-inject-selector',
  'never-inject-selector', // `foo` exists, even empty
  'always-inject-selector',
  'always-inject-selector',
  'never-inject-selector',
  'never-inject-selector', // never wins over always
  'pod-annotation-opt-in',
  'pod-annotation-opt-out',
  'pod-annotation-opt-out',
  'never-inject-selector', // second selector `bar` matches
  'always-inject-selector',
  'pod-annotation-opt-in',
  'pod-label-opt-in',
  'pod-label-opt-in',
  'pod-label-opt-in', // the label hides the annotation
  'pod-label-opt-out',
];

function selectors(list: SelectorCase[] | undefined): LabelSelector[] {
  return (list ?? []).map((s) =>
    s.selectorString === undefined
      ? { matchLabels: s.matchLabels ?? {} }
      : parseSelectorString(s.selectorString),
  );
}

let cases: InjectRequiredCase[] = [];
let dir: string;

beforeAll(async () => {
  const corpus = readCasesJson() as {
    webhookTests: { TestInjectRequired: { cases: InjectRequiredCase[] } };
  };
  cases = corpus.webhookTests.TestInjectRequired.cases;
  dir = await mkdtemp(join(tmpdir(), 'check-cases-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('check explains TestInjectRequired', () => {
  it('covers every case of the table', () => {
    expect(cases).toHaveLength(EXPECTED_REASONS.length);
  });

  it.each(EXPECTED_REASONS.map((reason, index) => ({ index, reason })))(
    'case $index: $reason',
    async ({ index, reason }) => {
      const c = cases[index];
      expect(c).toBeDefined();
      if (c === undefined) return;
      const configDir = join(dir, `case-${index}`);
      await rm(configDir, { recursive: true, force: true });
      await mkdir(configDir);
      await writeFile(
        join(configDir, 'config'),
        stringify({
          policy: c.policy,
          neverInjectSelector: selectors(c.neverInjectSelector),
          alwaysInjectSelector: selectors(c.alwaysInjectSelector),
        }),
      );
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `case-${index}`,
          namespace: c.namespace,
          labels: c.podLabels ?? {},
          annotations: c.podAnnotations ?? {},
        },
        spec: { hostNetwork: c.hostNetwork, containers: [{ name: 'app', image: 'app' }] },
      };
      // Written for a YAML 1.1 reader (as manifests are read): the case's string `yes` stays quoted.
      const io = captureIO(dir, stringify(pod, { version: '1.1' }));
      const code = await runCheck(['-f', '-', '--config-dir', configDir, '--output', 'json'], io);
      expect(io.err()).toBe('');
      expect(code).toBe(EXIT.OK);
      const [result] = JSON.parse(io.out()) as {
        inject: boolean;
        reason: string;
        steps: { stage: string; reason: string }[];
      }[];
      expect(result?.inject, c.name).toBe(c.wantInject);
      const policy = result?.steps.find((s) => s.stage === 'policy');
      expect(policy?.reason, c.name).toBe(reason);
    },
  );
});
