// bench/engines' copy of testdata/pac/corporate-split-tunnel.pac with one
// change: the client's VPN test runs in each call (vpnClient()), not once
// at the top level. pac-resolver cannot load the original: it rewrites
// every call that reaches an async helper (myIpAddress, isInNet) into
// `await`, and `await` at a script's top level is a SyntaxError in
// QuickJS. Its answers are the original's (same .pactest cases).
function vpnClient() {
  return isInNet(myIpAddress(), "172.16.0.0", "255.240.0.0");
}

var directDomains = [
  ".corp.example.com",
  ".internal.example.com",
  ".example-lab.net"
];

var saasDomains = [
  ".office365.example",
  ".salesforce.example",
  ".zoom.example"
];

function isDirectDomain(host) {
  for (var i = 0; i < directDomains.length; i++) {
    if (dnsDomainIs(host, directDomains[i])) {
      return true;
    }
  }
  return false;
}

function FindProxyForURL(url, host) {
  host = host.toLowerCase();

  // Plain names and the local machine never go through a proxy.
  if (isPlainHostName(host) || host == "127.0.0.1" || shExpMatch(host, "localhost*")) {
    return "DIRECT";
  }

  // Intranet domains, by name.
  if (isDirectDomain(host)) {
    return "DIRECT";
  }

  // Private address space, for IP literals and names that resolve into it.
  if (isInNet(host, "10.0.0.0", "255.0.0.0") ||
      isInNet(host, "172.16.0.0", "255.240.0.0") ||
      isInNet(host, "192.168.0.0", "255.255.0.0")) {
    return "DIRECT";
  }

  // Software as a service goes to the cloud proxy from anywhere, with the
  // site proxy as fall-back.
  for (var i = 0; i < saasDomains.length; i++) {
    if (dnsDomainIs(host, saasDomains[i])) {
      return "PROXY cloud-proxy.example.net:443; PROXY proxy.corp.example.com:8080";
    }
  }

  // Split tunnel: off the VPN, the Internet is direct.
  if (!vpnClient()) {
    return "DIRECT";
  }
  if (url.substring(0, 6) == "https:") {
    return "PROXY proxy.corp.example.com:8443; PROXY proxy2.corp.example.com:8443";
  }
  return "PROXY proxy.corp.example.com:8080; PROXY proxy2.corp.example.com:8080";
}
