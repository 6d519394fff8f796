/**
 * releaseBufferMemory (src/http/body-memory.ts): a Buffer that is the whole of its ArrayBuffer is
 * detached; a slice of Node's pool, a view into a larger ArrayBuffer, an empty or an already
 * detached Buffer is left as it was, bytes and all.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { releaseBufferMemory } from '../../../src/http/body-memory.js';

type Kind = 'whole' | 'pooled' | 'view' | 'empty' | 'detached';

const detached = (buffer: Buffer): boolean => (buffer.buffer as ArrayBuffer).detached;

function make(kind: Kind, size: number, fill: number): Buffer {
  switch (kind) {
    case 'whole':
      return Buffer.alloc(size, fill);
    case 'pooled':
      // Buffer.from of fewer than 4 KiB takes a slice of the shared allocation pool.
      return Buffer.from(new Uint8Array(Math.min(size, 1024)).fill(fill));
    case 'view': {
      const backing = Buffer.alloc(size + 16, fill);
      return backing.subarray(fill % 16, (fill % 16) + size);
    }
    case 'empty':
      return Buffer.alloc(0);
    case 'detached': {
      const buffer = Buffer.alloc(size, fill);
      buffer.buffer.transfer(0);
      return buffer;
    }
  }
}

describe('releaseBufferMemory', () => {
  it('detaches exactly the Buffers that are wholly their ArrayBuffer, for generated mixes', () => {
    const kind = fc.constantFrom<Kind>('whole', 'pooled', 'view', 'empty', 'detached');
    const item = fc.record({
      kind,
      size: fc.integer({ min: 1, max: 100_000 }),
      fill: fc.integer({ min: 1, max: 255 }),
      repeat: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(item, { maxLength: 12 }), (items) => {
        const buffers = items.map(({ kind: k, size, fill }) => ({ k, b: make(k, size, fill) }));
        const before = buffers.map(({ b }) => Buffer.from(b));
        // The same Buffer twice (a one-piece body is both piece and whole) must not throw.
        for (const [i, { b }] of buffers.entries()) {
          releaseBufferMemory(b);
          if (items[i]?.repeat) releaseBufferMemory(b);
        }
        buffers.forEach(({ k, b }, i) => {
          if (k === 'whole') {
            expect(detached(b)).toBe(true);
            expect(b.length).toBe(0);
          } else if (k === 'detached') {
            expect(b.length).toBe(0);
          } else {
            expect(detached(b)).toBe(false);
            expect(b.equals(before[i] as Buffer)).toBe(true);
          }
        });
      }),
      { numRuns: 300 },
    );
  });

  it('leaves the pool intact for the Buffers allocated after', () => {
    const pooled = Buffer.from('pooled bytes');
    releaseBufferMemory(pooled);
    const next = Buffer.from('next');
    expect(pooled.toString()).toBe('pooled bytes');
    expect(next.toString()).toBe('next');
  });
});
