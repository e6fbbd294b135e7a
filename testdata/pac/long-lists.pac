// Covers long lists as real PAC files have them: chained dnsDomainIs and shExpMatch conditions on the host and the URL, a block list, first match wins.
function FindProxyForURL(url, host) {
  // Block list: a black-hole proxy.
  if (dnsDomainIs(host, "ads.example") ||
      dnsDomainIs(host, "tracker.example") ||
      dnsDomainIs(host, "doubleclick.example") ||
      dnsDomainIs(host, "metrics.example") ||
      dnsDomainIs(host, "beacon.example") ||
      dnsDomainIs(host, "pixel.example") ||
      dnsDomainIs(host, "adserver.example") ||
      dnsDomainIs(host, "popup.example") ||
      dnsDomainIs(host, "malware.example") ||
      dnsDomainIs(host, "phish.example") ||
      dnsDomainIs(host, "coinminer.example") ||
      dnsDomainIs(host, "telemetry.example")) {
    return "PROXY 127.0.0.1:9";
  }

  // Internal and partner domains go direct.
  if (dnsDomainIs(host, ".example.com") || host == "example.com" ||
      dnsDomainIs(host, ".example.net") || host == "example.net" ||
      dnsDomainIs(host, ".example.org") || host == "example.org" ||
      dnsDomainIs(host, ".corp.example") || host == "corp.example" ||
      dnsDomainIs(host, ".intra.example") || host == "intra.example" ||
      dnsDomainIs(host, ".lab.example") || host == "lab.example" ||
      dnsDomainIs(host, ".dev.example") || host == "dev.example" ||
      dnsDomainIs(host, ".stage.example") || host == "stage.example" ||
      dnsDomainIs(host, ".partner-a.example") || host == "partner-a.example" ||
      dnsDomainIs(host, ".partner-b.example") || host == "partner-b.example" ||
      dnsDomainIs(host, ".partner-c.example") || host == "partner-c.example" ||
      dnsDomainIs(host, ".hr.example") || host == "hr.example" ||
      dnsDomainIs(host, ".payroll.example") || host == "payroll.example" ||
      dnsDomainIs(host, ".wiki.example") || host == "wiki.example" ||
      dnsDomainIs(host, ".git.example") || host == "git.example" ||
      dnsDomainIs(host, ".ci.example") || host == "ci.example" ||
      dnsDomainIs(host, ".artifacts.example") || host == "artifacts.example" ||
      dnsDomainIs(host, ".docs.example") || host == "docs.example" ||
      dnsDomainIs(host, ".status.example") || host == "status.example" ||
      dnsDomainIs(host, ".monitor.example") || host == "monitor.example" ||
      dnsDomainIs(host, ".vpn.example") || host == "vpn.example" ||
      dnsDomainIs(host, ".sso.example") || host == "sso.example" ||
      dnsDomainIs(host, ".mail.example") || host == "mail.example" ||
      dnsDomainIs(host, ".calendar.example") || host == "calendar.example") {
    return "DIRECT";
  }

  // Internal naming patterns.
  if (shExpMatch(host, "*.local") ||
      shExpMatch(host, "*.lan") ||
      shExpMatch(host, "*.home.arpa") ||
      shExpMatch(host, "*.internal") ||
      shExpMatch(host, "*.intranet") ||
      shExpMatch(host, "*.corp") ||
      shExpMatch(host, "*-dev.example.io") ||
      shExpMatch(host, "*-stage.example.io") ||
      shExpMatch(host, "build??.example.io") ||
      shExpMatch(host, "db-[0-9]*.example.io")) {
    return "DIRECT";
  }

  // Large downloads and certificate checks go to the cache.
  if (shExpMatch(url, "http://*/update/*") ||
      shExpMatch(url, "http://*.windowsupdate.example/*") ||
      shExpMatch(url, "*/crl/*") ||
      shExpMatch(url, "*/ocsp*") ||
      shExpMatch(url, "http://download.*.example/*.iso")) {
    return "PROXY cache.example.net:3128; DIRECT";
  }

  return "PROXY proxy.example.net:8080; PROXY proxy2.example.net:8080";
}
