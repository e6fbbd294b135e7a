// Covers time-based rules: office hours on weekdays through the filtering proxy, a nightly backup window, and a year-end freeze.
function FindProxyForURL(url, host) {
  if (dnsDomainIs(host, ".backup.example.com")) {
    // The backup window runs from 22:00 to 05:30, local time.
    if (timeRange(22, 0, 5, 30)) {
      return "PROXY bulk-proxy.example.com:8080";
    }
    return "PROXY proxy.example.com:8080";
  }
  if (dnsDomainIs(host, ".deploy.example.com") && dateRange(20, "DEC", 2, "JAN")) {
    // Change freeze: deployments are refused over the holidays.
    return "PROXY 127.0.0.1:9";
  }
  if (weekdayRange("MON", "FRI") && timeRange(8, 17)) {
    return "PROXY filter.example.com:8080; PROXY proxy.example.com:8080";
  }
  if (weekdayRange("SAT", "SUN")) {
    return "PROXY weekend.example.com:8080; DIRECT";
  }
  return "PROXY proxy.example.com:8080; DIRECT";
}
