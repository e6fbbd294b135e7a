// Covers a script whose top level throws while it initialises: it must fail to compile with the thrown error.
var config = { proxies: null };
var first = pickFirst(config.proxies);

function pickFirst(list) {
  if (list == null) {
    throw new Error("no proxies configured");
  }
  return list[0];
}

function FindProxyForURL(url, host) {
  return "PROXY " + first;
}
