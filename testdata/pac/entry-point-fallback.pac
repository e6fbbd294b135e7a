// Covers the choice of entry point: a FindProxyForURLEx that is not a function is ignored and FindProxyForURL is called.
var FindProxyForURLEx = null;

function FindProxyForURL(url, host) {
  return "PROXY legacy.example.com:8080; DIRECT";
}
