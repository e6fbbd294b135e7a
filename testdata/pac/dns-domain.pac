// Covers dnsDomainIs, localHostOrDomainIs and dnsDomainLevels: suffix tests without label boundaries, case-sensitive.
function FindProxyForURL(url, host) {
  // Four columns: dnsDomainIs(host, ".example.com"), dnsDomainIs(host,
  // "example.com"), localHostOrDomainIs(host, "www.example.com"),
  // dnsDomainLevels(host).
  return [
    dnsDomainIs(host, ".example.com"),
    dnsDomainIs(host, "example.com"),
    localHostOrDomainIs(host, "www.example.com"),
    dnsDomainLevels(host)
  ].join(" ");
}
