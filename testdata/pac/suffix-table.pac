// Covers the whitelist shape of community PAC files: a table of domains looked up suffix by suffix with hasOwnProperty, and a SOCKS proxy for the rest.
var proxy = "SOCKS5 127.0.0.1:1080; SOCKS 127.0.0.1:1080; DIRECT";
var direct = "DIRECT";

var domains = {
  "example.cn": 1,
  "example.com.cn": 1,
  "cdn-example.net": 1,
  "bank.example": 1,
  "gov.example": 1,
  "edu.example": 1
};

var hasOwnProperty = Object.hasOwnProperty;

function FindProxyForURL(url, host) {
  if (isPlainHostName(host) || /^\d+\.\d+\.\d+\.\d+$/.test(host)) {
    return direct;
  }
  var suffix;
  var pos = host.lastIndexOf(".");
  pos = host.lastIndexOf(".", pos - 1);
  while (true) {
    if (pos <= 0) {
      suffix = host;
    } else {
      suffix = host.substring(pos + 1);
    }
    if (hasOwnProperty.call(domains, suffix)) {
      return direct;
    }
    if (pos <= 0) {
      break;
    }
    pos = host.lastIndexOf(".", pos - 1);
  }
  return proxy;
}
