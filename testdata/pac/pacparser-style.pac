// Covers cases in the style of pacparser's tests/proxy.pac: labels instead of proxies, regex literals on host and URL, the client address (IPv4 and IPv6), quotes in URLs.
function FindProxyForURL(url, host) {
  if (host == "ex-defined") {
    return typeof dnsResolveEx == "function" ? "dnsResolveEx defined" : "no dnsResolveEx";
  }
  if (isInNetEx(myIpAddressEx().split(";")[0], "3ffe:8311:ffff::/48")) {
    return "ipv6-client";
  }
  if ((isPlainHostName(host) || dnsDomainIs(host, ".manugarg.example")) &&
      !localHostOrDomainIs(host, "www.manugarg.example")) {
    return "plainhost/.manugarg.example";
  }
  if (/.*\.externaldomain\.example/.test(host)) {
    return "externaldomain";
  }
  if (url.indexOf("'") >= 0) {
    return "quote:" + url.substring(url.indexOf("'"));
  }
  if (/^https:\/\/.*$/.test(url)) {
    return "secureUrl";
  }
  if (!isResolvable(host)) {
    return "unresolvable";
  }
  if (isInNet(myIpAddress(), "192.0.0.0", "255.0.0.0")) {
    return "192.0.0.0";
  }
  if (isInNet(myIpAddress(), "10.10.0.0", "255.255.0.0")) {
    return "10.10.0.0";
  }
  return "END-OF-SCRIPT";
}
