// Covers a runaway top level: a script that loops while it initialises must fail to compile when its deadline passes.
var ready = false;
while (!ready) {
}

function FindProxyForURL(url, host) {
  return "DIRECT";
}
