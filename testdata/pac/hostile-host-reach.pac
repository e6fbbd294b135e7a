// Covers a script that tries to reach the host: require, process, module, eval and Function of constructed code, constructor chains, globalThis probing and goja's GoError: each finds nothing, or only JavaScript.
function probe(f) {
  try {
    var v = f();
    return typeof v;
  } catch (e) {
    return e.name;
  }
}

function FindProxyForURL(url, host) {
  switch (host) {
  case "require.example":
    return require("child_process").execSync("id").toString();
  case "process.example":
    return process.env.HOME;
  case "eval.example":
    return eval("req" + "uire")("fs");
  case "function.example":
    return Function("return pro" + "cess")().pid;
  case "constructor.example":
    return this.constructor.constructor("return process")().exit(1);
  case "typeof.example":
    return "PROXY " + [typeof require, typeof process, typeof module, typeof exports, typeof global, typeof window,
      typeof Deno, typeof Java, typeof Packages, typeof console, typeof setTimeout, typeof fetch, typeof XMLHttpRequest,
      typeof WebAssembly, typeof ArrayBuffer].join("-") + ".example.com:8080";
  case "globals.example":
    // Only JavaScript's own globals and the PAC functions are there.
    var own = Object.getOwnPropertyNames(globalThis).filter(function (n) {
      return !/^(FindProxyForURL|probe|[A-Z].*|isNaN|isFinite|parseInt|parseFloat|decodeURI|decodeURIComponent|encodeURI|encodeURIComponent|escape|unescape|eval|globalThis|undefined|NaN|Infinity)$/.test(n);
    });
    return "PROXY " + own.sort().join(",") + ".example.com:8080";
  case "constructed.example":
    // eval and Function of constructed code are plain JavaScript: harmless.
    return "PROXY " + eval("1" + "+1") + "-" + Function("a", "return a * 3")(7) + "-" + probe(function () { return (0, eval)("this"); }) + ".example.com:8080";
  case "goerror.example":
    return "PROXY " + probe(function () { return new GoError("x"); }) + "-" + probe(function () { return GoError.prototype.value; }) + ".example.com:8080";
  }
  return "DIRECT";
}
