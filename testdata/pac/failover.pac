// Covers fail-over lists: several proxies and DIRECT in one answer, SOCKS and HTTPS entries, and load spreading by a hash of the host.
var pool = ["proxy-a.example.com:8080", "proxy-b.example.com:8080", "proxy-c.example.com:8080"];

function hash(s) {
  var h = 0;
  for (var i = 0; i < s.length; i++) {
    h = (h * 31 + s.charCodeAt(i)) % 1000003;
  }
  return h;
}

function FindProxyForURL(url, host) {
  if (dnsDomainIs(host, ".example.com")) {
    return "PROXY a:8080; PROXY b:8080; DIRECT";
  }
  if (dnsDomainIs(host, ".onion.example")) {
    return "SOCKS5 tor.example.net:9050; SOCKS tor2.example.net:9050";
  }
  if (dnsDomainIs(host, ".secure.example")) {
    return "HTTPS secure-proxy.example.net:443; PROXY proxy-a.example.com:8080";
  }
  if (shExpMatch(host, "*.cdn.example")) {
    return "DIRECT; PROXY proxy-a.example.com:8080";
  }
  // Spread the rest over the pool: the host's proxy first, the next as
  // fall-back, then direct.
  var i = hash(host) % pool.length;
  return "PROXY " + pool[i] + "; PROXY " + pool[(i + 1) % pool.length] + "; DIRECT";
}
