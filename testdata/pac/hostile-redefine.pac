// Covers a script that redefines the PAC helpers and the built-in prototypes the engine might lean on: its own definitions are what it gets, and the answer is still read as a plain string.
function dnsResolve(host) { return "10.9.9.9"; }
function myIpAddress() { return "10.0.0.1"; }
var isInNet = function (host, pattern, mask) { return pattern == "10.9.0.0"; };
shExpMatch = function (s, p) { return true; };
Object.prototype.toString = function () { return "PROXY poisoned.example:1"; };
Object.prototype.valueOf = function () { return "PROXY poisoned.example:2"; };
Object.prototype[Symbol.toPrimitive] = function () { return "PROXY poisoned.example:3"; };
String.prototype.toString = function () { return "PROXY poisoned.example:4"; };
String.prototype.valueOf = function () { return "PROXY poisoned.example:5"; };
String.prototype.trim = function () { return "PROXY poisoned.example:6"; };
String.prototype.split = function () { return ["PROXY poisoned.example:7"]; };
String.prototype.toLowerCase = function () { return "PROXY poisoned.example:8"; };
Array.prototype.join = function () { return "PROXY poisoned.example:9"; };
Object.defineProperty(Object.prototype, "then", { get: function () { for (;;) {} } });

function FindProxyForURL(url, host) {
  switch (host) {
  case "helpers.example":
    // The script's own helpers answer: dnsResolve's fixed address is in
    // the script's own isInNet, and its shExpMatch matches everything.
    if (isInNet(dnsResolve(host), "10.9.0.0", "255.255.0.0") && shExpMatch(host, "nothing") && myIpAddress() == "10.0.0.1") {
      return "PROXY own-helpers.example.com:8080";
    }
    return "DIRECT";
  case "builtins.example":
    // The helpers it did not redefine are pacd's, whatever the prototypes say.
    return "PROXY " + dnsDomainIs(host, ".example") + "-" + isPlainHostName(host) + "-" + dnsDomainLevels(host) + ".example.com:8080";
  case "string-object.example":
    return new String("PROXY a.example.com:8080");
  case "object.example":
    return { toString: function () { return "PROXY a.example.com:8080"; } };
  case "proxy.example":
    return new Proxy({}, { get: function () { for (;;) {} } });
  case "padded.example":
    return " PROXY a.example.com:8080 ";
  }
  return "PROXY plain.example.com:8080";
}
