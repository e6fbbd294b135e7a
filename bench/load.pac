// bench/load.pac: the PAC script pacd serve runs in bench/daemon.sh.
//
// A realistic corporate script: plain names and intranet domains DIRECT,
// URL patterns and partner domains through named proxies, private ranges
// by pattern and by isInNet on IP literals (no DNS lookups: the host is
// never a name that needs resolving here), a fail-over default. Every
// rule before the last-but-one runs for each benchmark request, whose
// host is the origin's 127.0.0.1, and the rule for loopback answers
// DIRECT: the benchmark never leaves the machine. The proxy names below
// are never dialled.
function FindProxyForURL(url, host) {
  if (isPlainHostName(host) || dnsDomainIs(host, ".corp.example.com"))
    return "DIRECT";
  if (shExpMatch(host, "*.internal.example.com") || localHostOrDomainIs(host, "intranet.example.com"))
    return "DIRECT";
  if (shExpMatch(url, "http://update.example.org/*") || shExpMatch(url, "*/windowsupdate/*"))
    return "PROXY update-proxy.example.com:8080";
  if (dnsDomainIs(host, ".partner.example.net") || dnsDomainIs(host, ".supplier.example.net"))
    return "PROXY partner-proxy.example.com:3128";
  if (shExpMatch(host, "10.*") || shExpMatch(host, "192.168.*") || shExpMatch(host, "172.16.*"))
    return "DIRECT";
  if (url.substring(0, 4) == "ftp:")
    return "PROXY ftp-proxy.example.com:2121";
  if (dnsDomainLevels(host) > 5)
    return "PROXY deep-proxy.example.com:8080";
  if (shExpMatch(host, "*.cdn.example.com") || shExpMatch(host, "*.akamai.example.net"))
    return "PROXY cdn-proxy.example.com:8080; DIRECT";
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host) && isInNet(host, "127.0.0.0", "255.0.0.0"))
    return "DIRECT";
  return "PROXY p1.example.com:8080; PROXY p2.example.com:8080; DIRECT";
}
