// Covers dateRange: day, month and year forms, 2/4/6-argument ranges, wrap-around, "GMT", and the browsers' setter quirks ("FEB" ends on "February 31").
var checks = {
  "day-15": function () { return dateRange(15); },
  "day-1": function () { return dateRange(1); },
  "day-string": function () { return dateRange("15"); },
  "jan": function () { return dateRange("JAN"); },
  "lower-jan": function () { return dateRange("jan"); },
  "year-2026": function () { return dateRange(2026); },
  "year-2025": function () { return dateRange(2025); },
  "days-10-20": function () { return dateRange(10, 20); },
  "days-24-5": function () { return dateRange(24, 5); },
  "jan-mar": function () { return dateRange("JAN", "MAR"); },
  "jan-feb": function () { return dateRange("JAN", "FEB"); },
  "dec-feb": function () { return dateRange("DEC", "FEB"); },
  "apr-jun": function () { return dateRange("APR", "JUN"); },
  "years-2025-2027": function () { return dateRange(2025, 2027); },
  "1jan-15jan": function () { return dateRange(1, "JAN", 15, "JAN"); },
  "nov2025-feb2026": function () { return dateRange("NOV", 2025, "FEB", 2026); },
  "1dec2025-31jan2026": function () { return dateRange(1, "DEC", 2025, 31, "JAN", 2026); },
  "jan-gmt": function () { return dateRange("JAN", "GMT"); },
  "day-15-gmt": function () { return dateRange(15, "GMT"); },
  "days-10-20-gmt": function () { return dateRange(10, 20, "GMT"); },
  "none": function () { return dateRange(); }
};

function FindProxyForURL(url, host) {
  return String(checks[host]());
}
