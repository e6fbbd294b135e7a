// Covers isInNet: dotted-quad hosts, names resolved with dnsResolve, and patterns or masks that are not valid dotted quads (false).
var nets = [
  ["ten", "10.0.0.0", "255.0.0.0"],
  ["ten20", "10.20.0.0", "255.255.0.0"],
  ["lab", "192.168.10.0", "255.255.255.0"],
  ["badpattern", "10.0.0", "255.0.0.0"],
  ["badmask", "10.0.0.0", "255.0.0"],
  ["mask256", "10.0.0.0", "255.255.255.256"],
  ["any", "0.0.0.0", "0.0.0.0"],
  ["sparse", "10.0.20.0", "255.0.255.0"],
  ["host", "192.168.10.77", "255.255.255.255"]
];

function FindProxyForURL(url, host) {
  var hits = [];
  for (var i = 0; i < nets.length; i++) {
    if (isInNet(host, nets[i][1], nets[i][2])) {
      hits.push(nets[i][0]);
    }
  }
  return hits.length ? hits.join(",") : "none";
}
