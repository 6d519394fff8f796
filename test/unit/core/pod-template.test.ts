import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../../src/core/json.js';
import { thrownText } from '../../helpers/errors.js';
import {
  getPodTemplate,
  listWorkloads,
  mapWorkloads,
  setPodTemplate,
  workloadIdentity,
} from '../../../src/core/pod-template.js';

const meta = { labels: { app: 'x' } };
const spec = { containers: [{ name: 'app' }] };
const template = { metadata: meta, spec };

describe('pod template location per kind', () => {
  it.each<[string, JsonObject]>([
    ['Pod', { kind: 'Pod', apiVersion: 'v1', metadata: meta, spec }],
    ['Deployment', { kind: 'Deployment', apiVersion: 'apps/v1', spec: { template } }],
    ['DaemonSet', { kind: 'DaemonSet', apiVersion: 'apps/v1', spec: { template } }],
    ['ReplicaSet', { kind: 'ReplicaSet', apiVersion: 'apps/v1', spec: { template } }],
    ['StatefulSet', { kind: 'StatefulSet', apiVersion: 'apps/v1', spec: { template } }],
    ['Job', { kind: 'Job', apiVersion: 'batch/v1', spec: { template } }],
    [
      'ReplicationController',
      { kind: 'ReplicationController', apiVersion: 'v1', spec: { template } },
    ],
    [
      'DeploymentConfig',
      { kind: 'DeploymentConfig', apiVersion: 'apps.openshift.io/v1', spec: { template } },
    ],
  ])('%s', (_kind, doc) => {
    expect(getPodTemplate(doc)).toEqual({ metadata: meta, spec });
    const injected = { metadata: { labels: { app: 'y' } }, spec: { containers: [{ name: 'z' }] } };
    const out = setPodTemplate(doc, injected);
    expect(getPodTemplate(out)).toEqual(injected);
    expect(getPodTemplate(doc)).toEqual({ metadata: meta, spec });
    expect(out.apiVersion).toBe(doc.apiVersion);
  });

  it('CronJob keeps metadata on the job template and the spec in the pod template', () => {
    const doc: JsonObject = {
      kind: 'CronJob',
      apiVersion: 'batch/v1',
      metadata: { name: 'c' },
      spec: {
        schedule: '* * * * *',
        jobTemplate: {
          metadata: { labels: { job: 'j' } },
          spec: { template: { metadata: { labels: { pod: 'p' } }, spec } },
        },
      },
    };
    expect(getPodTemplate(doc)).toEqual({ metadata: { labels: { job: 'j' } }, spec });
    const out = setPodTemplate(doc, {
      metadata: { labels: { job: 'k' } },
      spec: { containers: [] },
    });
    expect(out).toEqual({
      kind: 'CronJob',
      apiVersion: 'batch/v1',
      metadata: { name: 'c' },
      spec: {
        schedule: '* * * * *',
        jobTemplate: {
          metadata: { labels: { job: 'k' } },
          spec: { template: { metadata: { labels: { pod: 'p' } }, spec: { containers: [] } } },
        },
      },
    });
  });

  it('a missing template is an INJ_ERR_MANIFEST_INVALID error naming the field', () => {
    expect(
      thrownText(() =>
        getPodTemplate({ kind: 'ReplicationController', metadata: { name: 'rc' }, spec: {} }),
      ),
    ).toMatch(
      /INJ_ERR_MANIFEST_INVALID: ReplicationController "rc": spec.template is required value/,
    );
  });

  it('identity comes from the object', () => {
    expect(
      workloadIdentity({
        kind: 'Deployment',
        apiVersion: 'apps/v1',
        metadata: { name: 'd', namespace: 'n' },
      }),
    ).toEqual({
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      name: 'd',
      namespace: 'n',
    });
  });
});

describe('List recursion', () => {
  const list: JsonObject = {
    kind: 'List',
    items: [
      { kind: 'Service', metadata: { name: 's' } },
      { kind: 'Deployment', metadata: { name: 'd' }, spec: { template } },
      { kind: 'List', items: [{ kind: 'Pod', metadata: { name: 'p' }, spec }] },
    ],
  };

  it('lists every workload in order, skipping other kinds', () => {
    expect(listWorkloads(list).map((w) => workloadIdentity(w).name)).toEqual(['d', 'p']);
  });

  it('maps workloads and keeps other items as they are', () => {
    const out = mapWorkloads(list, (w) => ({ ...w, seen: true })) as JsonObject;
    const items = out.items as JsonObject[];
    expect(items[0]).toBe((list.items as JsonObject[])[0]);
    expect(items[1]?.seen).toBe(true);
    expect(((items[2]?.items as JsonObject[])[0] as JsonObject).seen).toBe(true);
  });
});
