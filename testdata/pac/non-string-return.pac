// Covers answers that are not strings (undefined, null, a number, a boolean, an object, a String object, a function, an array): each is an error.
function FindProxyForURL(url, host) {
  switch (host) {
  case "undefined.example":
    return undefined;
  case "null.example":
    return null;
  case "number.example":
    return 8080;
  case "boolean.example":
    return true;
  case "object.example":
    return { proxy: "PROXY a:8080" };
  case "string-object.example":
    return new String("DIRECT");
  case "function.example":
    return FindProxyForURL;
  case "array.example":
    return ["PROXY a:8080", "DIRECT"];
  case "fall-through.example":
    break;
  default:
    return "DIRECT";
  }
}
