// Covers a dynamic import("fs"): goja does not parse import(), so the script fails to compile with a SyntaxError rather than load a module.
function FindProxyForURL(url, host) {
  return import("fs");
}
