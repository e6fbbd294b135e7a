// Covers Netscape's PAC documentation, example 4: proxies chosen by top-level domain, with a shared fall-back (shExpMatch).
function FindProxyForURL(url, host) {
  if (isPlainHostName(host))
    return "DIRECT";
  else if (shExpMatch(host, "*.com"))
    return "PROXY proxy1.mydomain.com:8080; " +
           "PROXY proxy4.mydomain.com:8080";
  else if (shExpMatch(host, "*.edu"))
    return "PROXY proxy2.mydomain.com:8080; " +
           "PROXY proxy4.mydomain.com:8080";
  else
    return "PROXY proxy3.mydomain.com:8080; " +
           "PROXY proxy4.mydomain.com:8080";
}
