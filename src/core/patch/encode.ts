/**
 * The `patch` field of an AdmissionResponse: the JSON Patch text, base64-encoded
 * (admission.k8s.io/v1 AdmissionResponse.patch is []byte, which JSON carries as base64).
 * A reused injection returns the same frozen operations array for every pod it serves
 * (src/core/inject.ts), so its text is encoded once and remembered with the array.
 */
import type { Operation } from 'fast-json-patch';

const encodedPatches = new WeakMap<readonly Operation[], string>();

export function encodePatch(ops: readonly Operation[]): string {
  const known = encodedPatches.get(ops);
  if (known !== undefined) return known;
  const encoded = Buffer.from(JSON.stringify(ops), 'utf8').toString('base64');
  // Only a frozen array cannot change after its text is remembered.
  if (Object.isFrozen(ops)) encodedPatches.set(ops, encoded);
  return encoded;
}
