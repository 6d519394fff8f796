import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFieldTable, type FieldEntry } from '../../../src/core/field-table.js';
import { K8S_STRUCTS, k8sFields } from '../../../src/core/k8s-structs.js';

const ALL = { optional: true, alias: true } as const;

describe('parseFieldTable', () => {
  it('reads name:type entries in order, across lines, with ? and Alias=', () => {
    expect(
      parseFieldTable('T', '\n  name:s image:s?\n  TTY=tty:b? ports:[]ContainerPort?\n', ALL),
    ).toEqual([
      { name: 'name', type: 's', optional: false },
      { name: 'image', type: 's', optional: true },
      { name: 'tty', type: 'b', optional: true, alias: 'TTY' },
      { name: 'ports', type: '[]ContainerPort', optional: true },
    ]);
  });

  it('reads dotted paths and types with punctuation', () => {
    expect(
      parseFieldTable('T', 'global.proxy.image:str spec:*v1.PodOS q:Q{} l:[v1.Container'),
    ).toEqual([
      { name: 'global.proxy.image', type: 'str', optional: false },
      { name: 'spec', type: '*v1.PodOS', optional: false },
      { name: 'q', type: 'Q{}', optional: false },
      { name: 'l', type: '[v1.Container', optional: false },
    ]);
  });

  it('is empty for white space only', () => {
    expect(parseFieldTable('T', ' \n ')).toEqual([]);
  });

  it.each([
    ['name', 'entry "name" is malformed (expected [Alias=]name:type[?])'],
    ['name:', 'entry "name:" is malformed'],
    [':s', 'entry ":s" is malformed'],
    ['a:s?:', 'entry "a:s?:" is malformed'],
    ['a:s??', 'entry "a:s??" is malformed'],
    ['=a:s', 'entry "=a:s" is malformed'],
    ['1a:s', 'entry "1a:s" is malformed'],
    ['a:s a:b', 'entry "a:b" repeats the field "a"'],
  ])('refuses %j, naming the table and the entry', (text, message) => {
    expect(() => parseFieldTable('Pod', `ok:s ${text}`, ALL)).toThrow(
      `field table Pod: ${message}`,
    );
  });

  it('refuses what the table does not allow', () => {
    expect(() => parseFieldTable('Rules', 'a:str?')).toThrow(
      'field table Rules: entry "a:str?" may not be optional',
    );
    expect(() => parseFieldTable('Rules', 'A=a:str')).toThrow(
      'field table Rules: entry "A=a:str" may not name an alias',
    );
    expect(() => parseFieldTable('Rules', 'a')).toThrow(
      'field table Rules: entry "a" is malformed (expected name:type)',
    );
  });

  it('reads back every table it could have been written from', () => {
    const ident = fc.stringMatching(/^[A-Za-z_][\w]{0,8}$/);
    const entry = fc.record(
      {
        name: fc.array(ident, { minLength: 1, maxLength: 3 }).map((p) => p.join('.')),
        type: fc.stringMatching(/^[^\s?]{1,10}$/),
        optional: fc.boolean(),
        alias: ident,
      },
      { requiredKeys: ['name', 'type', 'optional'] },
    );
    const entries = fc.uniqueArray(entry, { selector: (e) => e.name, maxLength: 12 });
    const separator = fc.constantFrom(' ', '\n    ', '  \t');
    fc.assert(
      fc.property(entries, separator, (list: FieldEntry[], sep) => {
        const text = list
          .map(
            (e) =>
              `${e.alias === undefined ? '' : `${e.alias}=`}${e.name}:${e.type}${e.optional ? '?' : ''}`,
          )
          .join(sep);
        expect(parseFieldTable('T', `${sep}${text}${sep}`, ALL)).toEqual(list);
      }),
    );
  });
});

describe('k8sFields', () => {
  it('gives the K8sField tuples, the Go name only where it differs', () => {
    expect(k8sFields('Container', 'name:s stdin:b? TTY=tty:b? probe:*Probe?')).toEqual([
      ['name', 's', false],
      ['stdin', 'b', true],
      ['tty', 'b', true, 'TTY'],
      ['probe', '*Probe', true],
    ]);
  });

  it('refuses a malformed struct naming it', () => {
    expect(() => k8sFields('VolumeMount', 'name:s readOnly')).toThrow(
      'field table VolumeMount: entry "readOnly" is malformed',
    );
  });

  it('keeps k8s.io/api field facts the JSON printers depend on', () => {
    expect(K8S_STRUCTS['ContainerPort']).toEqual([
      ['name', 's', true],
      ['hostPort', 'i', true],
      ['containerPort', 'i', false],
      ['protocol', 's', true],
      ['hostIP', 's', true],
    ]);
    expect(K8S_STRUCTS['GRPCAction']).toEqual([
      ['port', 'i', false],
      ['service', '*s', false],
    ]);
    expect(K8S_STRUCTS['Container']?.at(-1)).toEqual(['tty', 'b', true, 'TTY']);
    expect(K8S_STRUCTS['Container']).toHaveLength(25);
    // Every listed struct a field names is itself listed.
    for (const fields of Object.values(K8S_STRUCTS)) {
      for (const [, shape] of fields) {
        const named = shape.replace(/^\[\]|^\*/, '');
        if (/^[A-Z][A-Za-z]+$/.test(named) && named !== 'Q') {
          expect(Object.hasOwn(K8S_STRUCTS, named), `${shape}`).toBe(true);
        }
      }
    }
  });
});
