// Covers isPlainHostName: no dot and not an IP literal (IPv4 in any URL form, IPv6), and the TypeError on a non-string argument.
function FindProxyForURL(url, host) {
  if (host == "typeerror.test") {
    return String(isPlainHostName(42));
  }
  return isPlainHostName(host) ? "DIRECT" : "PROXY proxy.example.com:8080";
}
