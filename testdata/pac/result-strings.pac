// Covers answers passed back exactly as the script wrote them (empty, padded with blanks, lower-case keywords, junk and empty entries), and a non-ASCII answer, which is an error.
function FindProxyForURL(url, host) {
  switch (host) {
  case "empty.example":
    return "";
  case "padded.example":
    return "  PROXY a.example.com:8080 ;  DIRECT  ";
  case "lower.example":
    return "proxy a.example.com:8080; direct";
  case "junk.example":
    return "PROXY foopy1 ; JUNK ; JUNK ; SOCKS5 foopy2 ; ;";
  case "tabs.example":
    return "PROXY foopy1 ; proxy foopy2;\t DIRECT";
  case "quic.example":
    return "QUIC q.example.com:443; HTTPS h.example.com:443";
  case "non-ascii.example":
    return "PROXY b\u00fccher.example:8080";
  case "v6.example":
    return "PROXY [2001:db8::1]:3128";
  }
  return "DIRECT";
}
