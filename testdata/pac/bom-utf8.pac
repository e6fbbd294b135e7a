// Covers a script saved as UTF-8 with a byte-order mark and non-ASCII text in comments and strings (Grüße, 東京): the mark is ignored.
var greeting = "Grüße aus 東京";

function FindProxyForURL(url, host) {
  if (greeting.length == 12 && dnsDomainIs(host, ".example.jp")) {
    return "PROXY tokyo-proxy.example.jp:8080";
  }
  return "DIRECT";
}
