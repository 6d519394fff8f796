import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** `../shared` beside the project root: the external conformance corpus, samples and payloads. */
export const SHARED_DIR = fileURLToPath(new URL('../../../shared/', import.meta.url));
export const CONFORMANCE_DIR = join(SHARED_DIR, 'conformance', 'istio');
export const CORPUS_DIR = join(CONFORMANCE_DIR, 'inject');
export const PAYLOADS_DIR = join(SHARED_DIR, 'perf', 'payloads');
export const SAMPLES_DIR = join(SHARED_DIR, 'samples');
