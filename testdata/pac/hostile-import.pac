// Covers an import statement: a PAC script is a classic script, not a module, so it fails to compile with a SyntaxError.
import { readFileSync } from "fs";

function FindProxyForURL(url, host) {
  return "DIRECT";
}
