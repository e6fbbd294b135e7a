// Covers the FindProxyForURLEx entry point: a script that defines both gets FindProxyForURLEx called, which may return IPv6 proxies.
function FindProxyForURL(url, host) {
  return "PROXY legacy.example.com:8080";
}

function FindProxyForURLEx(url, host) {
  if (isPlainHostName(host) || isInNetEx(host, "fd00::/8")) {
    return "DIRECT";
  }
  var addrs = dnsResolveEx(host);
  if (addrs != "" && isInNetEx(addrs.split(";")[0], "2001:db8:100::/48")) {
    return "DIRECT";
  }
  if (isInNetEx(myIpAddressEx().split(";")[0], "2001:db8:200::/48")) {
    return "PROXY [2001:db8:200::8080]:8080; PROXY proxy-v4.example.com:8080";
  }
  return "PROXY proxy-ex.example.com:8080; DIRECT";
}
