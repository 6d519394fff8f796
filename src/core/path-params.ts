/**
 * Extra proxy environment carried by the webhook URL path (spec §3.5), e.g.
 * `/inject/cluster/c1/net/n1` -> ISTIO_META_CLUSTER_ID=c1, ISTIO_META_NETWORK=n1.
 * The path is expected already percent-decoded.
 */
import type { StringMap } from './pod-types.js';

const KEY_TO_ENV: Readonly<Record<string, string>> = {
  cluster: 'ISTIO_META_CLUSTER_ID',
  net: 'ISTIO_META_NETWORK',
};

const LEGACY_PREFIX = ':ENV:';
const SLASH_TOKEN = '--slash--';

/** The raw key/value tokens after `/<handler>/`. */
function pathTokens(urlPath: string): string[] {
  const path = urlPath.endsWith('/') ? urlPath.slice(0, -1) : urlPath;
  // `/inject/rest`: skip the empty segment before the first slash and the handler name.
  const first = path.indexOf('/');
  const second = first < 0 ? -1 : path.indexOf('/', first + 1);
  if (second < 0) return [];
  const rest = path.slice(second + 1);
  if (rest.startsWith(LEGACY_PREFIX)) {
    // Deprecated form `:ENV:name=value:ENV:...`: values may contain `/`; a name is required.
    const tokens: string[] = [];
    for (const item of rest.split(LEGACY_PREFIX).slice(1)) {
      const eq = item.indexOf('=');
      if (eq > 0) tokens.push(item.slice(0, eq), item.slice(eq + 1));
    }
    return tokens;
  }
  return rest.split('/').map((token) => token.replaceAll(SLASH_TOKEN, '/'));
}

/** Env overrides from the URL path; keys `cluster` and `net` are mapped, others upper-cased. */
export function parsePathParams(urlPath: string): StringMap {
  const tokens = pathTokens(urlPath);
  const env: StringMap = {};
  // A trailing key without a value is ignored.
  for (let i = 0; i + 1 < tokens.length; i += 2) {
    const key = tokens[i] ?? '';
    env[KEY_TO_ENV[key] ?? key.toUpperCase()] = tokens[i + 1] ?? '';
  }
  return env;
}
