// Covers shExpMatch with an invalid regular expression: "a(b" throws a SyntaxError (catchable), as new RegExp does in every browser.
function FindProxyForURL(url, host) {
  if (shExpMatch(host, "*.safe.example")) {
    return "DIRECT";
  }
  if (host == "catch.example") {
    try {
      shExpMatch("x", "a(b");
    } catch (e) {
      return "caught " + e.name;
    }
    return "not thrown";
  }
  return shExpMatch("x", "a(b") ? "PROXY never.example:1" : "PROXY never.example:2";
}
