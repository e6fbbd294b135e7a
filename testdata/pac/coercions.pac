// Covers the library's JavaScript coercions on odd arguments (numbers, null, blanks, loose equality), as Chromium's JavaScript library computes them.
var checks = {
  "dnsDomainIs-number": function () { return dnsDomainIs(12345, "45"); },
  "dnsDomainIs-null": function () { return dnsDomainIs(null, ".example.com"); },
  "dnsDomainIs-empty-domain": function () { return dnsDomainIs("www.example.com", ""); },
  "dnsDomainLevels-number": function () { return dnsDomainLevels(1.5); },
  "localHostOrDomainIs-equal-number": function () { return localHostOrDomainIs(5, 5); },
  "shExpMatch-number": function () { return shExpMatch(12345, "1*5"); },
  "shExpMatch-newline": function () { return shExpMatch("a\nb", "a*b"); },
  "shExpMatch-empty": function () { return shExpMatch("", "*"); },
  "shExpMatch-undefined": function () { return shExpMatch(undefined, "undef*"); },
  "shExpMatch-non-ascii": function () { return shExpMatch("b\u00fccher", "b?cher"); },
  // '?' is one UTF-16 unit, and an emoji is two.
  "shExpMatch-surrogates-one": function () { return shExpMatch("\ud83d\ude00", "?"); },
  "shExpMatch-surrogates-two": function () { return shExpMatch("\ud83d\ude00", "??"); },
  "isPlainHostName-empty": function () { return isPlainHostName(""); },
  "isInNet-blank-mask": function () { return isInNet("10.0.0.1", "10.0.0.0", "255.0.0.0 "); },
  "isInNet-number-host": function () { return isInNet(167772161, "10.0.0.0", "255.0.0.0"); },
  "isInNet-leading-zero-pattern": function () { return isInNet("10.0.0.1", "010.0.0.0", "255.0.0.0"); },
  "convert_addr-short": function () { return convert_addr("10"); },
  "convert_addr-number": function () { return convert_addr(10); },
  "timeRange-string-hour": function () { return timeRange("12"); },
  "timeRange-string-bounds": function () { return timeRange("9", "17"); },
  "weekdayRange-lower-gmt": function () { return weekdayRange("MON", "FRI", "gmt"); },
  "weekdayRange-gmt-only": function () { return weekdayRange("GMT"); },
  "timeRange-gmt-only": function () { return timeRange("GMT"); },
  "dateRange-gmt-only": function () { return dateRange("GMT"); },
  "weekdayRange-proto-name": function () { return weekdayRange("toString"); },
  "dateRange-proto-name": function () { return dateRange("valueOf"); },
  "isInNetEx-blanks": function () { return isInNetEx("10.0.0.1", " 10.0.0.0 / 8 "); },
  "isInNetEx-not-first": function () { return isInNetEx("10.9.9.9", "10.1.2.3/8"); },
  "isInNetEx-name": function () { return isInNetEx("localhost", "127.0.0.0/8"); },
  "sortIpAddressList-duplicates": function () { return sortIpAddressList("10.0.0.2;10.0.0.1;10.0.0.2"); },
  "dnsResolveEx-number": function () { return dnsResolveEx(42); },
  "isResolvableEx-number": function () { return isResolvableEx(42); }
};

function FindProxyForURL(url, host) {
  return String(checks[url.substring(url.lastIndexOf("/") + 1)]());
}
