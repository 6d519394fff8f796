import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVE_FLAGS, SERVE_HELP, parseServeOptions } from '../../../src/cli/serve.js';
import { parseFlags } from '../../../src/cli/flags.js';
import { loadStaticConfig, readConfigDir } from '../../../src/config-sources/static.js';
import { InjectorError } from '../../../src/errors.js';
import { rejectionText } from '../../helpers/errors.js';

describe('serve flags', () => {
  it('defaults: port 9443 on 127.0.0.1 (as the README says), offline, dev certificates, drain 5 s', () => {
    const parsed = parseServeOptions([], {});
    expect(parsed).toEqual({
      ok: true,
      options: {
        port: 9443,
        host: '127.0.0.1',
        clusterMode: 'offline',
        istioNamespace: 'istio-system',
        revision: 'default',
        nativeSidecars: 'auto',
        platform: 'kubernetes',
        compliancePolicy: '',
        logLevel: 'info',
        drainSeconds: 5,
        audit: true,
        auditIntervalSeconds: 15,
        auditEvents: false,
        events: true,
        webhookConfig: 'sidecar-injector',
        service: { namespace: 'sidecar-injector', name: 'sidecar-injector' },
      },
    });
  });

  it('audit flags: off, interval, events, our configuration and Service', () => {
    const parsed = parseServeOptions(
      ['--audit', 'off', '--audit-interval', '30', '--audit-events', '--service', 'mesh/injector'],
      { INJECTOR_WEBHOOK_CONFIG: 'injector-canary' },
    );
    expect(parsed.ok && parsed.options).toMatchObject({
      audit: false,
      auditIntervalSeconds: 30,
      auditEvents: true,
      webhookConfig: 'injector-canary',
      service: { namespace: 'mesh', name: 'injector' },
    });
    const bad = parseServeOptions(['--audit-interval', '1', '--service', 'nope'], {});
    expect(!bad.ok && !bad.help && bad.problems.length).toBe(2);
  });

  it('--events off (or INJECTOR_EVENTS=off) turns the review Events off', () => {
    const off = parseServeOptions(['--events', 'off'], {});
    expect(off.ok && off.options.events).toBe(false);
    const env = parseServeOptions([], { INJECTOR_EVENTS: 'off' });
    expect(env.ok && env.options.events).toBe(false);
    const bad = parseServeOptions(['--events', 'maybe'], {});
    expect(!bad.ok && !bad.help && bad.problems).toEqual([
      '--events: expected one of on|off, got "maybe"',
    ]);
  });

  it('--platform and --compliance-policy (or their variables) set the process-wide facts', () => {
    const parsed = parseServeOptions(['--platform', 'openshift'], {
      INJECTOR_COMPLIANCE_POLICY: 'fips-140-3',
    });
    expect(parsed.ok && parsed.options).toMatchObject({
      platform: 'openshift',
      compliancePolicy: 'fips-140-3',
    });
    const bad = parseServeOptions(['--platform', 'mesos', '--compliance-policy', 'fips'], {});
    expect(bad.ok).toBe(false);
    expect(!bad.ok && !bad.help && bad.problems).toEqual([
      '--platform: expected one of kubernetes|openshift, got "mesos"',
      '--compliance-policy: expected one of fips-140-2|fips-140-3|pqc, got "fips"',
    ]);
  });

  it('flags win over INJECTOR_* variables, which win over defaults', () => {
    const parsed = parseServeOptions(['--port', '8443', '--revision=canary'], {
      INJECTOR_PORT: '7443',
      INJECTOR_HOST: '127.0.0.1',
      INJECTOR_NATIVE_SIDECARS: 'enabled',
    });
    expect(parsed.ok && parsed.options).toMatchObject({
      port: 8443,
      host: '127.0.0.1',
      revision: 'canary',
      nativeSidecars: 'enabled',
    });
  });

  it.each([
    ['--kubeconfig', ['--kubeconfig', '/k'], {}, 'kubeconfig'],
    ['KUBERNETES_SERVICE_HOST', [], { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, 'in-cluster'],
    ['neither', [], {}, 'offline'],
  ])('cluster mode from %s', (_name, argv, env, mode) => {
    const parsed = parseServeOptions(argv, env);
    expect(parsed.ok && parsed.options.clusterMode).toBe(mode);
  });

  it('every problem is listed at once', () => {
    const parsed = parseServeOptions(
      ['--port', '70000', '--native-sidecars', 'maybe', '--bogus', '--tls-cert', '/c', 'extra'],
      { INJECTOR_DRAIN_SECONDS: '-1', INJECTOR_LOG_LEVEL: 'loud' },
    );
    expect(parsed.ok).toBe(false);
    const problems = !parsed.ok && !parsed.help ? parsed.problems : [];
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('--port: expected a port number 0-65535, got "70000"'),
        expect.stringContaining('--native-sidecars: expected one of auto|enabled|disabled'),
        'unknown flag --bogus',
        expect.stringContaining('INJECTOR_DRAIN_SECONDS: must be at least 0'),
        expect.stringContaining('INJECTOR_LOG_LEVEL: expected one of'),
        '--tls-cert and --tls-key must be given together',
        'unexpected argument(s): extra',
      ]),
    );
    expect(problems).toHaveLength(7);
  });

  it('--help is recognised and the help documents every flag and its variable', () => {
    expect(parseServeOptions(['--help'], {})).toEqual({ ok: false, help: true });
    for (const spec of SERVE_FLAGS) {
      expect(SERVE_HELP).toContain(`--${spec.name}`);
      expect(SERVE_HELP).toContain(spec.env);
    }
  });

  it('a flag without a value is reported', () => {
    expect(parseFlags(['--port'], {}, SERVE_FLAGS).problems).toContain('--port: missing value');
  });
});

describe('config directory', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });
  async function tempDir(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'injector-config-'));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    return dir;
  }

  it('reads the files that exist and leaves the others to the defaults', async () => {
    const dir = await tempDir({ config: 'policy: disabled\n' });
    const sources = await readConfigDir(dir);
    expect(sources).toEqual({ config: 'policy: disabled\n' });
    expect(loadStaticConfig(sources).injector.policy).toBe('disabled');
  });

  it('a missing directory is INJ_ERR_CONFIG_INVALID naming it', async () => {
    const missing = join(tmpdir(), 'injector-config-does-not-exist');
    expect(await rejectionText(readConfigDir(missing))).toMatch(
      /INJ_ERR_CONFIG_INVALID.*does-not-exist/s,
    );
  });

  it('an unreadable entry is reported with its path', async () => {
    const dir = await tempDir({});
    await mkdir(join(dir, 'values'));
    await expect(readConfigDir(dir)).rejects.toThrow(/values/);
  });

  it('an invalid configuration lists every problem by path', async () => {
    const dir = await tempDir({
      values: JSON.stringify({ global: { proxy: { statusPort: 'abc' } } }),
      mesh: 'proxyListenPort: not-a-port\n',
    });
    let caught: unknown;
    try {
      loadStaticConfig(await readConfigDir(dir));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InjectorError);
    const error = caught as InjectorError;
    expect(error.code).toBe('INJ_ERR_CONFIG_INVALID');
    expect(error.message).toContain('values.global.proxy.statusPort');
    expect(error.message).toContain('mesh.proxyListenPort');
  });
});
