// Covers alert: callable at top level and in FindProxyForURL with any value or none, it returns undefined and never stops the script.
alert("alert.pac: loading");
var loaded = "loaded";

function FindProxyForURL(url, host) {
  alert("FindProxyForURL(" + url + ", " + host + ")");
  alert();
  alert(null);
  alert(42);
  alert({ toString: function () { return "an object"; } });
  var r = alert("last");
  if (host == "value") {
    return String(r) + " " + typeof alert;
  }
  return "PROXY " + loaded + ".example.com:8080";
}
