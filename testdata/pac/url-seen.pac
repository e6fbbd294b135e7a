// Covers what FindProxyForURL is given: it returns "url host", so the https path stripping and the removal of user information and fragments show.
function FindProxyForURL(url, host) {
  return url + " " + host;
}
