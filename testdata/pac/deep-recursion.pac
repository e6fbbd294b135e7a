// Covers unbounded recursion: a script that recurses without end must fail with a stack overflow, not crash the engine.
function depth(n) {
  return depth(n + 1) + 1;
}

function countDots(s, i) {
  if (i >= s.length) {
    return 0;
  }
  return (s.charAt(i) == "." ? 1 : 0) + countDots(s, i + 1);
}

function FindProxyForURL(url, host) {
  if (host == "recurse.example.com") {
    return "PROXY p" + depth(0) + ".example.com:8080";
  }
  // Bounded recursion is fine.
  return "PROXY dots-" + countDots(host, 0) + ".example.com:8080";
}
