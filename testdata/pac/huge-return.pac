// Covers a hostile answer: a 1 MiB return value must be refused (pacd caps answers at 64 KiB); building a large string inside the script is fine.
function big() {
  var s = "PROXY a.example.com:8080; ";
  while (s.length < 1 << 20) {
    s += s;
  }
  return s;
}

function FindProxyForURL(url, host) {
  var s = big();
  if (host == "huge.example.com") {
    return s;
  }
  return "PROXY len-" + s.length + ".example.com:8080";
}
