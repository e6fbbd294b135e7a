// Covers Netscape's PAC documentation, example 5: a proxy per protocol, chosen by the URL's scheme (url.substring).
function FindProxyForURL(url, host) {
  if (url.substring(0, 5) == "http:") {
    return "PROXY http-proxy.mydomain.com:8080";
  }
  else if (url.substring(0, 4) == "ftp:") {
    return "PROXY ftp-proxy.mydomain.com:8080";
  }
  else if (url.substring(0, 7) == "gopher:") {
    return "PROXY gopher-proxy.mydomain.com:8080";
  }
  else if (url.substring(0, 6) == "https:" ||
           url.substring(0, 6) == "snews:") {
    return "PROXY security-proxy.mydomain.com:8080";
  }
  else {
    return "DIRECT";
  }
}
