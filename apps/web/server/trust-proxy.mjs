// WEB_TRUST_PROXY: which peers of the web server may tell it the client's address. The syntax
// of the API's TRUST_PROXY, and the same matching (@fastify/proxy-addr, as Fastify uses).
import proxyAddr from '@fastify/proxy-addr';

/**
 * A trust function over the hops of a request: hop 0 is the socket's peer, hop 1 the last
 * address in its X-Forwarded-For, and so on towards the client.
 * - unset, `false`, `0`: nobody; the socket's address is the client.
 * - addresses and CIDRs, comma-separated (`127.0.0.1,10.0.0.0/8`, `loopback`): a hop is
 *   believed when its address is listed.
 * - a hop count `n`: the nearest n hops, whatever their address; only safe when nothing but
 *   those proxies can reach the web server.
 * `true` is refused: it would let every client choose its address.
 * @param {string | undefined} value
 * @returns {(address: string, hop: number) => boolean}
 */
export function trustProxy(value) {
  if (value === undefined || /^(false|0|no|off)$/i.test(value)) return () => false;
  if (/^(true|yes|on)$/i.test(value)) {
    throw new Error(
      'must name the proxy addresses (e.g. 127.0.0.1,10.0.0.0/8) or a hop count, not "true"',
    );
  }
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return (_address, hop) => hop < hops;
  }
  const list = value.split(',').map((s) => s.trim());
  for (const item of list) {
    if (!/^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(item) && item !== 'loopback') {
      throw new Error(`"${item}" is not an IP address or CIDR`);
    }
  }
  // Refuses what only looks like an address (e.g. 300.1.1.1) with "invalid IP address: …".
  return proxyAddr.compile(list);
}
