// IPv4 and IPv6 addresses and CIDR blocks for the IpAddress / NotIpAddress operators.
//
// IAM User Guide, condition operators: "The value must be in the standard CIDR format (for
// example, 203.0.113.0/24 or 2001:DB8:1234:5678::/64). If you specify an IP address without the
// associated routing prefix, IAM uses the default prefix value of /32" (/128 for IPv6).
// An address is held as four 32-bit words (IPv4 in the last word), so one comparison loop serves
// both families without BigInt.

export interface Cidr {
  readonly v6: boolean;
  readonly words: Uint32Array;
  readonly prefix: number;
}

export interface IpAddr {
  readonly v6: boolean;
  readonly words: Uint32Array;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseV4(s: string): number | undefined {
  const m = IPV4.exec(s);
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    // Leading zeros are ambiguous (octal in some parsers): refuse them.
    if (part.length > 1 && part[0] === '0') return undefined;
    const b = Number(part);
    if (b > 255) return undefined;
    n = n * 256 + b;
  }
  return n >>> 0;
}

function parseV6(s: string): Uint32Array | undefined {
  let text = s;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const groups: number[] = [];
  // A trailing dotted IPv4 (::ffff:1.2.3.4) supplies the last two groups.
  const lastColon = text.lastIndexOf(':');
  let tailV4: number | undefined;
  if (text.indexOf('.', lastColon) > lastColon) {
    tailV4 = parseV4(text.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 2) {
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return undefined;
    groups.push(...head, ...new Array<number>(fill).fill(0), ...tail);
  } else {
    if (head.length !== 8) return undefined;
    groups.push(...head);
  }
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) words[i] = ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0;
  if (tailV4 !== undefined) words[3] = tailV4;
  return words;
}

/** Parses an address; an IPv4-mapped IPv6 address (::ffff:a.b.c.d, as Node reports) is IPv4. */
export function parseIp(s: string): IpAddr | undefined {
  const v4 = parseV4(s);
  if (v4 !== undefined) return { v6: false, words: Uint32Array.of(0, 0, 0, v4) };
  if (!s.includes(':')) return undefined;
  const words = parseV6(s);
  if (!words) return undefined;
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) return { v6: false, words: Uint32Array.of(0, 0, 0, words[3]!) };
  return { v6: true, words };
}

/** Parses `addr` or `addr/prefix`; the host bits need not be zero (AWS accepts 10.1.2.3/8). */
export function parseCidr(s: string): Cidr | undefined {
  const slash = s.indexOf('/');
  const addr = parseIp(slash < 0 ? s : s.slice(0, slash));
  if (!addr) return undefined;
  const max = addr.v6 ? 128 : 32;
  let prefix = max;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    if (prefix > max) return undefined;
  }
  return { v6: addr.v6, words: addr.words, prefix };
}

export function cidrContains(c: Cidr, ip: IpAddr): boolean {
  if (c.v6 !== ip.v6) return false;
  // IPv4 lives in the last word: skip the three zero words.
  let bits = c.prefix;
  for (let i = c.v6 ? 0 : 3; i < 4 && bits > 0; i++) {
    const take = bits >= 32 ? 32 : bits;
    const mask = take === 32 ? 0xffffffff : ~(0xffffffff >>> take) >>> 0;
    if (((c.words[i]! ^ ip.words[i]!) & mask) >>> 0 !== 0) return false;
    bits -= take;
  }
  return true;
}
