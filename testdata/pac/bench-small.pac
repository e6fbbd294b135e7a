// bench-small: the ten-rule PAC of the benchmarks; a typical small office
// PAC with plain names, domain lists, URL patterns and a fail-over default.
function FindProxyForURL(url, host) {
  if (isPlainHostName(host) || dnsDomainIs(host, ".corp.example.com"))
    return "DIRECT";
  if (shExpMatch(host, "*.internal.example.com"))
    return "DIRECT";
  if (localHostOrDomainIs(host, "intranet.example.com"))
    return "DIRECT";
  if (shExpMatch(url, "http://update.example.org/*"))
    return "PROXY update-proxy.example.com:8080";
  if (dnsDomainIs(host, ".partner.example.net"))
    return "PROXY partner-proxy.example.com:3128";
  if (shExpMatch(host, "10.*") || shExpMatch(host, "192.168.*"))
    return "DIRECT";
  if (url.substring(0, 4) == "ftp:")
    return "PROXY ftp-proxy.example.com:2121";
  if (dnsDomainLevels(host) > 5)
    return "PROXY deep-proxy.example.com:8080";
  if (shExpMatch(host, "*.cdn.example.com"))
    return "PROXY cdn-proxy.example.com:8080; DIRECT";
  return "PROXY p1.example.com:8080; PROXY p2.example.com:8080; DIRECT";
}
