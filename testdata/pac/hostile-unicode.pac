// Covers strings that are not valid Unicode: lone surrogates, a byte-order mark and NUL in a returned string, and non-ASCII text inside the script.
var grüße = "東京";

function FindProxyForURL(url, host) {
  switch (host) {
  case "lone-surrogate.example":
    return "PROXY a.example.com:8080\uD800";
  case "reversed-pair.example":
    return "PROXY \uDC00\uD800.example.com:8080";
  case "bom.example":
    return "\uFEFFPROXY a.example.com:8080";
  case "nul.example":
    return "PROXY a.example.com:8080\u0000; DIRECT";
  case "surrogate-host.example":
    return "PROXY " + dnsDomainIs("a\uD800.example", ".example") + "-" + shExpMatch("\uD800", "?") + "-" + (dnsResolve("\uD800") === null) + ".example.com:8080";
  case "non-ascii.example":
    return "PROXY " + grüße.length + ".example.com:8080";
  }
  return "DIRECT";
}
