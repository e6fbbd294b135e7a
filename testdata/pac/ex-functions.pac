// Covers Microsoft's IPv6 extensions: dnsResolveEx, isResolvableEx, isInNetEx, myIpAddressEx, sortIpAddressList and getClientVersion.
var prefixes = [
  "10.0.0.0/8",
  "2001:db8::/32",
  "::ffff:10.0.0.0/104",
  "0.0.0.0/0",
  "10.1.2.3/32",
  "3ffe:8311:ffff/48",
  "10.0.0.0/33"
];

function FindProxyForURL(url, host) {
  var fn = url.substring(url.lastIndexOf("/") + 1);
  switch (fn) {
  case "dnsResolveEx":
    return "[" + dnsResolveEx(host) + "]";
  case "isResolvableEx":
    return String(isResolvableEx(host));
  case "myIpAddressEx":
    return "[" + myIpAddressEx() + "] " + myIpAddress();
  case "sort":
    return String(sortIpAddressList(host));
  case "sort-fixed":
    return [
      sortIpAddressList(" 10.0.0.3 ; 10.0.0.1 ;\t::2 "),
      sortIpAddressList(""),
      sortIpAddressList(";"),
      sortIpAddressList(42)
    ].map(String).join(" ");
  case "isInNetEx":
    var hits = [];
    for (var i = 0; i < prefixes.length; i++) {
      if (isInNetEx(host, prefixes[i])) {
        hits.push(prefixes[i]);
      }
    }
    return hits.length ? hits.join(" ") : "none";
  case "isInNetEx-nonstring":
    return String(isInNetEx(42, "10.0.0.0/8"));
  case "version":
    return getClientVersion();
  }
  return "DIRECT";
}
