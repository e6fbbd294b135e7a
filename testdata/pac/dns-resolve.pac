// Covers dnsResolve and isResolvable (IPv4 only, null on failure, punycode for IDN, null for a non-string) and convert_addr.
function FindProxyForURL(url, host) {
  if (shExpMatch(url, "*/convert")) {
    return "convert_addr=" + convert_addr(host);
  }
  if (shExpMatch(url, "*/nonstring")) {
    return "dnsResolve(42)=" + dnsResolve(42) + " isResolvable(null)=" + isResolvable(null);
  }
  return "dnsResolve=" + dnsResolve(host) + " isResolvable=" + isResolvable(host);
}
