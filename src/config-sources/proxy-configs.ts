/**
 * ProxyConfig resources given as documents (the `documents` row of PROXY_CONFIG_SOURCES in
 * choose.ts): those in `inject`'s input manifests and those of `--proxy-config` files. They are
 * checked as the API server and Istio's validation would, and indexed for the core.
 */
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { InjectorError, type ErrorDetail } from '../errors.js';
import { isJsonObject, type JsonValue } from '../core/json.js';
import { MAX_YAML_ALIASES } from '../core/yaml.js';
import {
  buildProxyConfigSet,
  isProxyConfigDocument,
  parseProxyConfigResource,
  type ProxyConfigResource,
  type ProxyConfigSet,
} from '../core/proxy-config-resources.js';

/** Namespace of a document that sets none: the one `inject` assumes for workloads. */
export const DOCUMENTS_DEFAULT_NAMESPACE = 'default';

export interface ProxyConfigDocuments {
  set: ProxyConfigSet;
  /** Messages for stderr (e.g. a selector without labels), each naming its document. */
  warnings: string[];
}

/** One stream of documents and the name used for it in messages (a path or `<stdin>`). */
export interface DocumentStream {
  source: string;
  text: string;
}

/**
 * The ProxyConfig documents of `inputs` (other kinds are the manifests to inject and are left
 * alone) and of `files` (which must hold nothing but ProxyConfig documents). A document that is
 * not valid YAML is reported by the manifest reader; here only ProxyConfig documents are read.
 */
export function proxyConfigsFromDocuments(
  inputs: readonly DocumentStream[],
  files: readonly DocumentStream[],
): ProxyConfigDocuments {
  const resources: ProxyConfigResource[] = [];
  const warnings: string[] = [];
  for (const stream of inputs) collect(stream, false, resources, warnings);
  for (const stream of files) collect(stream, true, resources, warnings);
  return { set: buildProxyConfigSet(resources), warnings };
}

function collect(
  stream: DocumentStream,
  only: boolean,
  resources: ProxyConfigResource[],
  warnings: string[],
): void {
  const docs = parseAllDocuments(stream.text, { prettyErrors: false });
  docs.forEach((doc, i) => {
    const where = `${stream.source}: document ${i + 1}`;
    const first = doc.errors[0];
    if (first !== undefined) {
      // Input manifests are parsed (and their errors reported) by the manifest reader.
      if (!only) return;
      throw invalid(where, [{ field: where, reason: first.message }], first.message);
    }
    const value = (doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) ?? null) as JsonValue;
    if (value === null) return;
    if (!isProxyConfigDocument(value)) {
      if (!only) return;
      const reason = `expected a networking.istio.io/v1beta1 ProxyConfig, got ${kindOf(value)}`;
      throw invalid(where, [{ field: where, reason }], reason);
    }
    const parsed = parseProxyConfigResource(value, DOCUMENTS_DEFAULT_NAMESPACE);
    if (!parsed.ok) {
      const details: ErrorDetail[] = parsed.issues.map((issue) => ({
        field: issue.path === '' ? where : `${where}: ${issue.path}`,
        reason: issue.message,
      }));
      throw invalid(
        where,
        details,
        parsed.issues
          .map((x) => (x.path === '' ? x.message : `${x.path}: ${x.message}`))
          .join('; '),
      );
    }
    const { namespace, name } = parsed.resource;
    for (const warning of parsed.warnings) {
      warnings.push(`${where} (ProxyConfig "${namespace}/${name}"): ${warning}`);
    }
    resources.push(parsed.resource);
  });
}

function kindOf(value: JsonValue): string {
  if (!isJsonObject(value)) return 'a document that is not a map';
  const apiVersion = typeof value['apiVersion'] === 'string' ? value['apiVersion'] : '?';
  const kind = typeof value['kind'] === 'string' ? value['kind'] : '?';
  return `${apiVersion} ${kind}`;
}

function invalid(where: string, details: ErrorDetail[], reason: string): InjectorError {
  return new InjectorError('INJ_ERR_MANIFEST_INVALID', `${where}: invalid ProxyConfig: ${reason}`, {
    details,
  });
}

/** Reads the `--proxy-config` files; an unreadable file is an error naming the flag and path. */
export async function readProxyConfigFiles(
  paths: readonly string[],
  flag: string,
): Promise<DocumentStream[]> {
  return Promise.all(
    paths.map(async (path) => {
      try {
        return { source: path, text: await readFile(path, 'utf8') };
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new InjectorError('INJ_ERR_MANIFEST_INVALID', `${flag} ${path}: ${reason}`, {
          details: [{ field: flag, value: path, reason }],
          cause: error,
        });
      }
    }),
  );
}
