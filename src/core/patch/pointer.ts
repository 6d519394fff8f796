/** JSON Pointer (RFC 6901) helpers: `~` -> `~0` and `/` -> `~1` inside one segment. */
export function escapeSegment(segment: string): string {
  // Most keys need no escaping; skip the two regex passes for them.
  if (!segment.includes('~') && !segment.includes('/')) return segment;
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function unescapeSegment(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

export function toPointer(segments: readonly (string | number)[]): string {
  let pointer = '';
  for (const segment of segments) pointer = childPointer(pointer, segment);
  return pointer;
}

/** The pointer of one child of `parent` (itself a pointer). */
export function childPointer(parent: string, segment: string | number): string {
  return `${parent}/${typeof segment === 'number' ? segment : escapeSegment(segment)}`;
}

/** Splits a pointer into unescaped segments; `''` is the whole document. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/'))
    throw new Error(`JSON pointer ${JSON.stringify(pointer)} must start with "/"`);
  return pointer.slice(1).split('/').map(unescapeSegment);
}
