// Covers weekdayRange: single days, ranges that wrap past Saturday, "GMT", and names it does not know (false).
var checks = {
  "mon-fri": function () { return weekdayRange("MON", "FRI"); },
  "sat-sun": function () { return weekdayRange("SAT", "SUN"); },
  "fri-mon": function () { return weekdayRange("FRI", "MON"); },
  "sun-sat": function () { return weekdayRange("SUN", "SAT"); },
  "sat-fri": function () { return weekdayRange("SAT", "FRI"); },
  "wed": function () { return weekdayRange("WED"); },
  "sat": function () { return weekdayRange("SAT"); },
  "mon-fri-gmt": function () { return weekdayRange("MON", "FRI", "GMT"); },
  "fri-gmt": function () { return weekdayRange("FRI", "GMT"); },
  "sat-gmt": function () { return weekdayRange("SAT", "GMT"); },
  "sat-sun-gmt": function () { return weekdayRange("SAT", "SUN", "GMT"); },
  // Three arguments without "GMT": only the first counts.
  "mon-wed-fri": function () { return weekdayRange("MON", "WED", "FRI"); },
  // Names are upper case only.
  "lower": function () { return weekdayRange("mon", "fri"); },
  "unknown": function () { return weekdayRange("XYZ"); },
  "none": function () { return weekdayRange(); }
};

function FindProxyForURL(url, host) {
  return String(checks[host]());
}
