/**
 * A request body's memory given back as soon as the review is done with it, not at the next
 * scavenge.
 *
 * A Buffer's bytes live outside V8's heap (an ArrayBuffer backing store), and V8 counts the
 * external bytes allocated since the last mark-compact as old-generation use until a scavenge
 * sweeps the dead ArrayBuffers (V8 src/heap/heap.h `OldGenerationSpaceAvailable`, which adds
 * `AllocatedExternalMemorySinceMarkCompact`). Once what is left below the old generation's limit is
 * no more than the young generation's capacity, V8 starts incremental marking
 * (`Heap::IncrementalMarkingLimitReached`). An 80 KB body arrives as ~5 pieces and is joined into
 * one more Buffer: ~160 KB of external bytes per request, and ~120 reuse-path requests between two
 * scavenges, so V8 ran 15-25 mark-compacts a second on a 12 MB heap (docs/performance.md, ninth
 * pass). Detaching a dead body's ArrayBuffers (`ArrayBuffer.prototype.transfer`) releases them and
 * their count at once.
 *
 * Only an ArrayBuffer that is wholly the given Buffer is detached: a slice of Node's allocation
 * pool (`Buffer.allocUnsafe` below 4 KiB) or any other shared buffer is left alone, as it holds
 * other bytes. The caller passes only a Buffer nothing else can still read.
 */
export function releaseBufferMemory(buffer: Buffer): void {
  const store = buffer.buffer;
  if (
    store instanceof ArrayBuffer &&
    !store.detached &&
    buffer.byteOffset === 0 &&
    buffer.byteLength === store.byteLength &&
    store.byteLength > 0
  ) {
    store.transfer(0);
  }
}
