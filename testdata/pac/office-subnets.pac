// Covers an isInNet-heavy script: the proxy chosen by the client's subnet (myIpAddress) and destination subnets, with resolved names.
var sites = [
  // network, mask, proxy
  ["10.1.0.0", "255.255.0.0", "PROXY proxy-lon.example.com:8080; PROXY proxy-ams.example.com:8080"],
  ["10.2.0.0", "255.255.0.0", "PROXY proxy-ams.example.com:8080; PROXY proxy-lon.example.com:8080"],
  ["10.3.0.0", "255.255.240.0", "PROXY proxy-nyc.example.com:8080; PROXY proxy-sfo.example.com:8080"],
  ["10.3.16.0", "255.255.240.0", "PROXY proxy-sfo.example.com:8080; PROXY proxy-nyc.example.com:8080"],
  ["10.4.0.0", "255.252.0.0", "PROXY proxy-sin.example.com:8080"],
  ["192.168.100.0", "255.255.255.128", "PROXY proxy-lab.example.com:3128"]
];

function FindProxyForURL(url, host) {
  if (isPlainHostName(host)) {
    return "DIRECT";
  }
  // Destinations in the corporate network, by address or by resolved name.
  var ip = isValidIp(host) ? host : dnsResolve(host);
  if (ip) {
    if (isInNet(ip, "10.0.0.0", "255.0.0.0") ||
        isInNet(ip, "172.16.0.0", "255.240.0.0") ||
        isInNet(ip, "192.168.0.0", "255.255.0.0") ||
        isInNet(ip, "100.64.0.0", "255.192.0.0") ||
        isInNet(ip, "127.0.0.0", "255.0.0.0")) {
      return "DIRECT";
    }
    // The management network of a hosting partner goes via a jump proxy.
    if (isInNet(ip, "203.0.113.0", "255.255.255.0")) {
      return "SOCKS5 jump.example.com:1080";
    }
  }
  // The client's site decides the proxy.
  var me = myIpAddress();
  for (var i = 0; i < sites.length; i++) {
    if (isInNet(me, sites[i][0], sites[i][1])) {
      return sites[i][2];
    }
  }
  return "PROXY proxy-default.example.com:8080; DIRECT";
}

function isValidIp(s) {
  return /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(s);
}
