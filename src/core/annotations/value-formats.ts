/**
 * Parsers for the value formats annotations and values carry: ports, port lists, unsigned
 * integers, CIDR prefixes, interface names, and Go's boolean spellings (`parseGoBool`). Each returns an error text (undefined when valid), worded the way
 * Istio reports these problems so users can search for them.
 */

/** A port number 0-65535 in decimal; surrounding spaces are allowed. */
export function portError(text: string): string | undefined {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return `failed parsing port '${text}': invalid syntax`;
  if (Number(trimmed) > 65535) return `failed parsing port '${text}': value out of range`;
  return undefined;
}

/** A comma-separated port list: empty is fine, an empty element (`1,,2`) is not. */
export function portListError(text: string): string | undefined {
  if (text.trim() === '') return undefined;
  for (const element of text.split(',')) {
    const problem = portError(element);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** An unsigned 32-bit decimal with no spaces (readiness probe settings). */
export function uint32Error(text: string): string | undefined {
  if (!/^\d+$/.test(text)) return `failed parsing unsigned integer '${text}': invalid syntax`;
  if (Number(text) > 4294967295) {
    return `failed parsing unsigned integer '${text}': value out of range`;
  }
  return undefined;
}

/**
 * An unsigned decimal that also fits the int32 field it is written to: the readiness probe's
 * `initialDelaySeconds`, `periodSeconds` and `failureThreshold` are int32 in the Pod API
 * (k8s.io/api/core/v1 Probe), so 2147483648 would make the patched pod invalid.
 */
export function int32FieldError(text: string): string | undefined {
  const problem = uint32Error(text);
  if (problem !== undefined) return problem;
  if (Number(text) > 2147483647) {
    return `value '${text}' out of range: the probe field is an int32 (at most 2147483647)`;
  }
  return undefined;
}

function ipv4Error(text: string): string | undefined {
  const octets = text.split('.');
  if (octets.length !== 4) return 'IPv4 address must have four fields';
  for (const octet of octets) {
    if (!/^\d{1,3}$/.test(octet)) return `invalid IPv4 field '${octet}'`;
    if (octet.length > 1 && octet.startsWith('0'))
      return `IPv4 field '${octet}' has a leading zero`;
    if (Number(octet) > 255) return `IPv4 field '${octet}' is greater than 255`;
  }
  return undefined;
}

function ipv6Error(text: string): string | undefined {
  if (text.includes('%')) return 'IPv6 zones cannot be present in a prefix';
  const halves = text.split('::');
  if (halves.length > 2) return 'multiple :: in IPv6 address';
  let groups = 0;
  for (const [halfIndex, half] of halves.entries()) {
    if (half === '') continue;
    const parts = half.split(':');
    for (const [index, part] of parts.entries()) {
      const isLast = halfIndex === halves.length - 1 && index === parts.length - 1;
      if (isLast && part.includes('.')) {
        const problem = ipv4Error(part);
        if (problem !== undefined) return problem;
        groups += 2;
        continue;
      }
      if (!/^[0-9A-Fa-f]{1,4}$/.test(part)) return `invalid IPv6 field '${part}'`;
      groups += 1;
    }
  }
  if (halves.length === 2 ? groups > 7 : groups !== 8) {
    return 'IPv6 address has the wrong number of fields';
  }
  return undefined;
}

/**
 * An IP address as Go's netip.ParseAddr reads it: dotted IPv4 without leading zeros, or IPv6
 * (an embedded IPv4 tail and a non-empty `%zone` allowed).
 */
export function ipAddressError(text: string): string | undefined {
  if (!text.includes(':')) return ipv4Error(text);
  const percent = text.indexOf('%');
  if (percent < 0) return ipv6Error(text);
  if (percent === text.length - 1) return 'zone must be a non-empty string';
  return ipv6Error(text.slice(0, percent));
}

/**
 * A CIDR prefix `address/bits` (IPv4 or IPv6). Host bits may be set (`10.96.0.1/24`); a bare
 * address, a zone, leading zeros in the bits or surrounding spaces are rejected.
 */
export function cidrError(text: string): string | undefined {
  const slash = text.lastIndexOf('/');
  if (slash < 0) return "no '/'";
  const address = text.slice(0, slash);
  const bits = text.slice(slash + 1);
  const isV6 = address.includes(':');
  const problem = isV6 ? ipv6Error(address) : ipv4Error(address);
  if (problem !== undefined) return `ParseAddr("${address}"): ${problem}`;
  const max = isV6 ? 128 : 32;
  if (!/^(0|[1-9]\d*)$/.test(bits) || Number(bits) > max) {
    return `bad bits after slash: "${bits}"`;
  }
  return undefined;
}

/** A comma-separated CIDR list; empty is fine; elements are not trimmed. */
export function cidrListError(text: string): string | undefined {
  if (text === '') return undefined;
  for (const element of text.split(',')) {
    const problem = cidrError(element);
    if (problem !== undefined) return `failed parsing cidr '${element}': ${problem}`;
  }
  return undefined;
}

const INTERFACE_NAME_RE = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const MAX_INTERFACE_NAME = 15;

/** A comma-separated list of Linux interface names; empty is fine. */
export function interfaceListError(text: string): string | undefined {
  if (text === '') return undefined;
  for (const element of text.split(',')) {
    const name = element.trim();
    if (name === '') return 'empty interface name';
    if (name.length > MAX_INTERFACE_NAME) {
      return `interface name "${name}" too long (max ${MAX_INTERFACE_NAME} chars)`;
    }
    if (!INTERFACE_NAME_RE.test(name))
      return `interface name "${name}" contains invalid characters`;
  }
  return undefined;
}

const GO_BOOLEANS: Record<string, boolean> = {
  '1': true,
  t: true,
  T: true,
  TRUE: true,
  true: true,
  True: true,
  '0': false,
  f: false,
  F: false,
  FALSE: false,
  false: false,
  False: false,
};

/** Go's strconv.ParseBool: the accepted spellings, or undefined. */
export function parseGoBool(text: string): boolean | undefined {
  return Object.hasOwn(GO_BOOLEANS, text) ? GO_BOOLEANS[text] : undefined;
}
