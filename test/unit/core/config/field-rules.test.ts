import { describe, expect, it } from 'vitest';
import { checkFields, port, str, type Checker } from '../../../../src/core/config/checks.js';
import { fieldRules } from '../../../../src/core/config/field-rules.js';
import type { ConfigIssue } from '../../../../src/core/config/types.js';
import { INJECTOR_RULES, MESH_RULES, VALUES_RULES } from '../../../../src/core/config/rules.js';
import { PROXY_CONFIG_RULES } from '../../../../src/core/proxy-config.js';

describe('fieldRules', () => {
  it('gives one rule an entry, in the order written, with the named checker', () => {
    const rules = fieldRules('t', { str, port }, '\n    a.b:str\n    c:port a.d:str\n');
    expect(rules).toEqual([
      { path: 'a.b', check: str },
      { path: 'c', check: port },
      { path: 'a.d', check: str },
    ]);
  });

  it('runs the checks in table order, so issues come in that order', () => {
    const rules = fieldRules('t', { str, port }, 'z:str a:port m:str');
    const issues: ConfigIssue[] = [];
    checkFields({ a: 'x', m: 1, z: 2 }, rules, 'values', issues);
    expect(issues.map((i) => i.path)).toEqual(['values.z', 'values.a', 'values.m']);
  });

  it('refuses a checker the table does not have, naming the table, entry and checkers', () => {
    expect(() => fieldRules('mesh', { str, port }, 'trustDomain:str rootNamespace:string')).toThrow(
      'field table mesh: entry "rootNamespace:string" names no checker (str, port)',
    );
  });

  it('refuses an inherited name as a checker', () => {
    const checkers: Record<string, Checker> = { str };
    expect(() => fieldRules('t', checkers, 'a:toString')).toThrow('names no checker');
  });

  it('refuses a malformed entry and omitempty', () => {
    expect(() => fieldRules('values', { str }, 'global.hub:str global.tag')).toThrow(
      'field table values: entry "global.tag" is malformed (expected name:type)',
    );
    expect(() => fieldRules('values', { str }, 'global.hub:str?')).toThrow('may not be optional');
  });

  it('gives the tables the injector checks, each path once', () => {
    const tables = { VALUES_RULES, MESH_RULES, INJECTOR_RULES, PROXY_CONFIG_RULES };
    for (const [name, rules] of Object.entries(tables)) {
      expect(rules.length, name).toBeGreaterThan(5);
      expect(new Set(rules.map((r) => r.path)).size, name).toBe(rules.length);
      for (const rule of rules) expect(typeof rule.check, rule.path).toBe('function');
    }
    expect(PROXY_CONFIG_RULES.map((r) => r.path).slice(0, 5)).toEqual([
      'configPath',
      'binaryPath',
      'serviceCluster',
      'drainDuration',
      'terminationDrainDuration',
    ]);
    // A map is checked before the fields below it (it may be normalised first).
    const paths = VALUES_RULES.map((r) => r.path);
    expect(paths.indexOf('global.proxy.resources')).toBeLessThan(
      paths.indexOf('global.proxy.resources.requests'),
    );
  });
});
