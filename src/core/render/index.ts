/**
 * Native renderers for Istio's built-in injection templates (spec §4.4, §6, §11). Each returns the
 * partial Pod the corresponding Go template would render; the pipeline strategic-merges it.
 */
import { InjectorError } from '../../errors.js';
import type { RenderContext, RenderedTemplate, TemplateRenderer } from '../contracts.js';
import { renderGateway } from './gateway.js';
import { renderGrpcAgent, renderGrpcSimple } from './grpc.js';
import { renderSidecar } from './sidecar.js';

export type BuiltinTemplateName = 'sidecar' | 'gateway' | 'grpc-simple' | 'grpc-agent';

/** The renderers written in code, one per template name this injector renders itself. */
export const BUILTIN_RENDERERS: Readonly<Record<BuiltinTemplateName, TemplateRenderer>> =
  Object.freeze({
    sidecar: renderSidecar,
    gateway: renderGateway,
    'grpc-simple': renderGrpcSimple,
    'grpc-agent': renderGrpcAgent,
  });

export function isBuiltinTemplate(name: string): name is BuiltinTemplateName {
  return Object.hasOwn(BUILTIN_RENDERERS, name);
}

/** Renders one built-in template; an unknown name is an INJ_ERR_TEMPLATE_NOT_FOUND error. */
export function renderTemplate(name: string, ctx: RenderContext): RenderedTemplate {
  if (!isBuiltinTemplate(name)) {
    const have = Object.keys(BUILTIN_RENDERERS).join(', ');
    throw new InjectorError(
      'INJ_ERR_TEMPLATE_NOT_FOUND',
      `requested template "${name}" not found; have ${have}`,
      { details: [{ field: 'template', value: name, reason: `not one of ${have}` }] },
    );
  }
  return BUILTIN_RENDERERS[name](ctx);
}

export { appendMultusNetwork } from './multus.js';
export { proxyImage, proxyInitImage } from './images.js';
export { cleanProxyConfig, proxyConfigEnvValue } from './proxy-config-json.js';
export { excludeInboundPort, iptablesArgs } from './iptables.js';
export { nativeSidecarFor } from './sidecar.js';
