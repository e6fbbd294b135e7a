// Covers an entry point defined by a getter: FindProxyForURL is read once, when the script loads, and the function the getter gave is called from then on.
var reads = 0;
Object.defineProperty(this, "FindProxyForURL", {
  get: function () {
    reads++;
    return function (url, host) { return "PROXY read-" + reads + ".example.com:8080"; };
  }
});
