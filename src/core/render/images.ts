/**
 * Image references of the injected containers (Istio `ProxyImage`/`ProxyInitImage` behaviour):
 * `<global.hub>/<name>:<tag>[-<type>]`, or a full reference taken verbatim when the
 * `KEY.proxyImage` annotation (else the values image name) contains a `/`.
 */
import type { ProxyConfig, Values } from '../config/types.js';
import type { StringMap } from '../pod-types.js';
import { valueOr, valueString } from './values.js';
import { KEY } from '../annotations/keys.js';

const TYPED_TAG_SUFFIXES = ['-distroless', '-debug'] as const;

export interface ImageInputs {
  values: Values;
  /** Effective proxy config; only `image.imageType` is read, and only for the proxy image. */
  proxyConfig?: ProxyConfig;
  annotations?: StringMap;
}

/**
 * Applies an image type to a tag: an existing `-distroless`/`-debug` suffix is replaced;
 * type `default` means no suffix; an empty type leaves the tag untouched.
 */
export function tagWithImageType(tag: string, imageType: string): string {
  if (imageType === '') return tag;
  let base = tag;
  for (const suffix of TYPED_TAG_SUFFIXES) {
    if (base.endsWith(suffix)) {
      base = base.slice(0, -suffix.length);
      break;
    }
  }
  return imageType === 'default' ? base : `${base}-${imageType}`;
}

function compose(values: Values, name: string, imageType: string): string {
  const hub = valueString(values, 'global.hub');
  const tag = valueString(values, 'global.tag');
  return `${hub}/${name}:${tagWithImageType(tag, imageType)}`;
}

/** A full image reference from the annotation or values, when it contains a registry path. */
function verbatimImage(annotations: StringMap, configured: string): string | undefined {
  const candidate = Object.hasOwn(annotations, KEY.proxyImage)
    ? (annotations[KEY.proxyImage] ?? '')
    : configured;
  return candidate.includes('/') ? candidate : undefined;
}

/** Image of `istio-proxy`. Type: annotation > proxy config `image.imageType` > `global.variant`. */
export function proxyImage({ values, proxyConfig, annotations = {} }: ImageInputs): string {
  const name = valueOr(values, 'global.proxy.image', 'proxyv2');
  const verbatim = verbatimImage(annotations, name);
  if (verbatim !== undefined) return verbatim;
  let imageType = valueString(values, 'global.variant');
  // A proxy-config image block overrides the variant even when its type is empty.
  if (proxyConfig?.image !== undefined && proxyConfig.image !== null) {
    imageType = proxyConfig.image.imageType ?? '';
  }
  const fromAnnotation = annotations[KEY.proxyImageType];
  if (fromAnnotation !== undefined) imageType = fromAnnotation;
  return compose(values, name, imageType);
}

/** Image of the iptables init container. Type: annotation > `global.variant` (proxy config ignored). */
export function proxyInitImage({ values, annotations = {} }: ImageInputs): string {
  const name = valueOr(values, 'global.proxy_init.image', 'proxyv2');
  const verbatim = verbatimImage(annotations, name);
  if (verbatim !== undefined) return verbatim;
  const fromAnnotation = annotations[KEY.proxyImageType];
  const imageType = fromAnnotation ?? valueString(values, 'global.variant');
  return compose(values, name, imageType);
}
