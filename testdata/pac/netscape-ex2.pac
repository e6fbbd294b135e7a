// Covers Netscape's PAC documentation, example 2: direct for hosts inside the firewall, which are the ones that resolve (isResolvable).
function FindProxyForURL(url, host) {
  if (isResolvable(host))
    return "DIRECT";
  else
    return "PROXY proxy.mydomain.com:8080";
}
