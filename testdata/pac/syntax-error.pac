// Covers a script that does not parse: a missing closing brace; it must fail to compile with a SyntaxError.
function FindProxyForURL(url, host) {
  if (dnsDomainIs(host, ".example.com") {
    return "DIRECT";
  }
  return "PROXY proxy.example.com:8080";
}
