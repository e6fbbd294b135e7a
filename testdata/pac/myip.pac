// Covers myIpAddress (the client's first IPv4 address, else its first address, else 127.0.0.1) and routing on it with isInNet.
var me = myIpAddress();

function FindProxyForURL(url, host) {
  if (host == "whoami") {
    return me + " " + myIpAddress();
  }
  if (isInNet(myIpAddress(), "10.10.0.0", "255.255.0.0")) {
    return "PROXY hq-proxy.example.com:8080";
  }
  if (isInNet(myIpAddress(), "192.168.0.0", "255.255.0.0")) {
    return "PROXY branch-proxy.example.com:3128";
  }
  return "DIRECT";
}
