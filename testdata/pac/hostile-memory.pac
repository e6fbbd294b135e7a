// Covers memory bombs built in one call (repeat, padStart, Array(1e9).join, fill, Array.from, split, ArrayBuffer, typed arrays).
function FindProxyForURL(url, host) {
  switch (host) {
  case "repeat.example":
    return "x".repeat(1e9);
  case "pad.example":
    return "x".padStart(2e9, "ab");
  case "join.example":
    return Array(1e9).join("PROXY a:1;");
  case "generic-join.example":
    return Array.prototype.join.call({ length: 4294967295 }, "");
  case "fill.example":
    return "PROXY " + new Array(5e8).fill(0).length;
  case "from.example":
    return "PROXY " + Array.from({ length: 1e9 }).length;
  case "split.example":
    return "PROXY " + "xxxxxxxxxxxxxxxx".repeat(65537).split("x").length;
  case "array-buffer.example":
    return "PROXY " + new ArrayBuffer(2e9).byteLength;
  case "typed-array.example":
    return "PROXY " + new Float64Array(5e8).length;
  case "small.example":
    // Sizes that a PAC script might use still work.
    return "PROXY " + "ab".repeat(1000).length + "-" + Array(1000).join("x").length + "-" + "x".padEnd(100).length + ".example.com:8080";
  }
  return "DIRECT";
}
