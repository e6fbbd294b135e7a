// Covers exponential regular expressions: backreferences make goja backtrack (a RegExp literal, new RegExp with replace and a function), bounded by the deadline or the match timeout; nested quantifiers alone run in linear time.
var A = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!";

function FindProxyForURL(url, host) {
  switch (host) {
  case "nested.example":
    // (a+)+$ and (a|aa)*b have no backreference: linear time.
    return "PROXY " + /^(a+)+$/.test(A) + "-" + /^(a|aa)*b$/.test(A) + "-" + A.split(/(a+)+b/).length + ".example.com:8080";
  case "backref.example":
    return "PROXY " + /^(a|aa)+\1b$/.test(A) + ".example.com:8080";
  case "replace.example":
    return A.replace(new RegExp("(a+)+\\1$", "g"), function (m) { return "PROXY " + m; });
  }
  return "DIRECT";
}
