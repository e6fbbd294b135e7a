// Covers timeRange: 1, 2, 4 and 6 arguments, wrap-around past midnight (4 and 6 only), "GMT", and a bad argument count (it throws).
var checks = {
  "h0": function () { return timeRange(0); },
  "h12": function () { return timeRange(12); },
  "h9-17": function () { return timeRange(9, 17); },
  // Two arguments never wrap around.
  "h22-6": function () { return timeRange(22, 6); },
  "hm-0930-1700": function () { return timeRange(9, 30, 17, 0); },
  "hm-1215-1215": function () { return timeRange(12, 15, 12, 15); },
  "hm-2200-0600": function () { return timeRange(22, 0, 6, 0); },
  "hms-090000-170000": function () { return timeRange(9, 0, 0, 17, 0, 0); },
  "hms-120000-123000": function () { return timeRange(12, 0, 0, 12, 30, 0); },
  "hms-230000-010000": function () { return timeRange(23, 0, 0, 1, 0, 0); },
  "h12-gmt": function () { return timeRange(12, "GMT"); },
  "h23-gmt": function () { return timeRange(23, "GMT"); },
  "h9-17-gmt": function () { return timeRange(9, 17, "GMT"); },
  "hm-0900-1700-gmt": function () { return timeRange(9, 0, 17, 0, "GMT"); },
  "hms-115930-120030-gmt": function () { return timeRange(11, 59, 30, 12, 0, 30, "GMT"); },
  "hms-000000-200000-gmt": function () { return timeRange(0, 0, 0, 20, 0, 0, "GMT"); },
  "three": function () { return timeRange(1, 2, 3); },
  "none": function () { return timeRange(); }
};

function FindProxyForURL(url, host) {
  return String(checks[host]());
}
