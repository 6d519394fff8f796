/**
 * node:http and node:http2, loaded with `require`. An ESM `import` of a builtin makes Node read
 * every export of it to build the module namespace, and node:http's lazy `WebSocket`,
 * `MessageEvent` and `CloseEvent` getters then load undici, which the server never uses: 100-190 ms
 * of start-up, measured (`import('node:http')` against `require('node:http')`, Node 24).
 */
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

export const http = load('node:http') as typeof import('node:http');
export const http2 = load('node:http2') as typeof import('node:http2');
