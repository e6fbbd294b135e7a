// Covers Netscape's PAC documentation, example 3: direct for hosts in one subnet, by address or resolved name (isInNet).
function FindProxyForURL(url, host) {
  if (isInNet(host, "198.95.0.0", "255.255.0.0"))
    return "DIRECT";
  else
    return "PROXY proxy.mydomain.com:8080";
}
