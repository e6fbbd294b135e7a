// Covers exceptions thrown while answering: a ReferenceError, a TypeError, a thrown string, a thrown Error and one from alert's toString fail the evaluation with their message.
function FindProxyForURL(url, host) {
  if (host == "reference.example") {
    return findProxyHelper(host);
  }
  if (host == "type.example") {
    var cfg = null;
    return cfg.proxy;
  }
  if (host == "string.example") {
    throw "no proxy for " + host;
  }
  if (host == "error.example") {
    throw new RangeError("port out of range");
  }
  if (host == "alert-throws.example") {
    alert({ toString: function () { throw new Error("toString failed"); } });
    return "PROXY not-reached.example.com:8080";
  }
  if (host == "caught.example") {
    try {
      undefinedFunction();
    } catch (e) {
      return "PROXY caught-" + e.name + ".example.com:8080";
    }
  }
  return "DIRECT";
}
