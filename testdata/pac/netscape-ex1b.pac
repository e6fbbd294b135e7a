// Covers Netscape's PAC documentation, example 1b: local hosts direct, except the web servers www and home (localHostOrDomainIs).
function FindProxyForURL(url, host) {
  if ((isPlainHostName(host) ||
       dnsDomainIs(host, ".mcom.com")) &&
      !localHostOrDomainIs(host, "www.mcom.com") &&
      !localHostOrDomainIs(host, "home.mcom.com"))
    return "DIRECT";
  else
    return "PROXY w3proxy.mcom.com:8080; DIRECT";
}
