// Covers shExpMatch: '*' and '?' globs, '.' as a literal, and regex syntax passing through ("(*.a.com|a.com)", "[a-c]bc", "a+b", "\\d", "{2}").
var patterns = [
  ["star", "*.a.com"],
  ["alt", "(*.a.com|a.com)"],
  ["class", "[a-c]bc"],
  ["plus", "a+b"],
  ["quest", "?bc"],
  ["dot", "a.com"],
  ["any", "*"],
  ["digits", "host\\d+"],
  ["brace", "x{2}y"],
  ["anchors", "^abc$"]
];

function FindProxyForURL(url, host) {
  var hits = [];
  for (var i = 0; i < patterns.length; i++) {
    if (shExpMatch(host, patterns[i][1])) {
      hits.push(patterns[i][0]);
    }
  }
  return hits.length ? hits.join(",") : "none";
}
