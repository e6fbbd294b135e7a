// Covers a script that defines no FindProxyForURL (a typo in its name): it must fail to compile.
function FindProxyForUrl(url, host) {
  return "DIRECT";
}
var FindProxyForURLEx = "not a function";
