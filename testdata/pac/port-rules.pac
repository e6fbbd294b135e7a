// Covers rules on the scheme and port of the URL (kept in https URLs, which lose only their path) with shExpMatch and string methods.
function FindProxyForURL(url, host) {
  if (shExpMatch(url, "https://*:8443/")) {
    return "PROXY admin-proxy.example.com:8080";
  }
  if (url.substring(0, 4) == "wss:" || url.substring(0, 3) == "ws:") {
    return "PROXY ws-proxy.example.com:8080";
  }
  if (shExpMatch(url, "http://*:8080/*") || shExpMatch(url, "http://*:3128/*")) {
    return "DIRECT";
  }
  if (shExpMatch(url, "https://*")) {
    return "PROXY tls-proxy.example.com:8080";
  }
  if (shExpMatch(url, "http://*/*.exe") || shExpMatch(url, "http://*/*.msi?*")) {
    return "PROXY av-scan.example.com:8080";
  }
  return "PROXY proxy.example.com:8080";
}
