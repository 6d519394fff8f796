/**
 * The environment the shipped Deployment gives the server (manifests/base/deployment.yaml, which
 * the chart's template is tested to match): the bench runs our server under the same
 * NODE_OPTIONS and malloc settings, passed the same way, so a flag Node refuses there fails here
 * too.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

interface EnvVar {
  name?: string;
  value?: string;
}
interface DeploymentDoc {
  kind?: string;
  spec?: { template?: { spec?: { containers?: { name?: string; env?: EnvVar[] }[] } } };
}

/**
 * The injector container's literal env values that change speed or memory: NODE_OPTIONS (which
 * must be there) and MALLOC_ARENA_MAX (when set).
 */
export async function shippedServerEnv(root: string): Promise<Record<string, string>> {
  const text = await readFile(join(root, 'manifests/base/deployment.yaml'), 'utf8');
  const doc = parseAllDocuments(text)
    .map((d) => d.toJS() as DeploymentDoc | null)
    .find((d) => d?.kind === 'Deployment');
  const container = doc?.spec?.template?.spec?.containers?.find((c) => c.name === 'injector');
  const value = (name: string) => container?.env?.find((e) => e.name === name)?.value;
  const options = value('NODE_OPTIONS');
  if (options === undefined) throw new Error('manifests/base/deployment.yaml: no NODE_OPTIONS');
  const arenas = value('MALLOC_ARENA_MAX');
  return { NODE_OPTIONS: options, ...(arenas === undefined ? {} : { MALLOC_ARENA_MAX: arenas }) };
}
