// Covers Netscape's PAC documentation, example 1: the proxy for everything except local hosts (isPlainHostName, dnsDomainIs).
function FindProxyForURL(url, host) {
  if (isPlainHostName(host) ||
      dnsDomainIs(host, ".mcom.com"))
    return "DIRECT";
  else
    return "PROXY w3proxy.mcom.com:8080; DIRECT";
}
