// Covers a runaway script: an endless loop for some hosts must be cut off at the deadline, and the other hosts still answer.
function FindProxyForURL(url, host) {
  if (host == "loop.example.com") {
    while (true) {
    }
  }
  if (host == "busy.example.com") {
    var i = 0;
    for (;;) {
      i = (i + 1) % 7;
    }
  }
  return "DIRECT";
}
