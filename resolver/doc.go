// Package resolver decides, for every URL or connection, how to reach it
// (DIRECT, or through HTTP, HTTPS or SOCKS proxies, in order) from every
// way people configure proxies, and connects accordingly.
//
// A [Resolver] is built once with [New] from a [Config]: a PAC script
// (any [Evaluator], such as *pac.Script or a [PACFile]), the environment
// ([FromEnvironment]), explicit rules in the forms users already write
// (one proxy for everything as HTTPX's proxy=, a Requests proxies dict,
// HTTPX mounts) and bypass lists. [Resolver.Resolve] returns a
// [Decision]: the proxies to try and what decided. [Resolver.ProxyFunc]
// drops into http.Transport.Proxy, [Resolver.DialContext] into anything
// that dials, and [Resolver.Transport] is a ready http.RoundTripper that
// fails over from a proxy that cannot be reached to the next. A Resolver
// is safe for concurrent use.
//
// The order between the sources is given at [Resolver.ResolveQuery]. The
// rest of this comment is the specification of how each source is read;
// the tests follow it clause by clause.
//
// # Proxy URLs
//
// A proxy is written as a URL: http://, https:// (TLS to the proxy),
// socks4://, socks4a://, socks5:// (names resolved by the client) or
// socks5h:// (names resolved by the proxy). A value without a scheme is an
// HTTP proxy, whatever the scheme of the requests it carries (as curl and
// Go read HTTPS_PROXY=proxy:3128; not as Requests' "same as the URL"). A
// missing port is the scheme's default: 80, 443, 1080 (curl would use
// 1080 for every scheme). User information is percent-decoded and becomes
// Basic Proxy-Authorization for HTTP and HTTPS proxies, the RFC 1929
// login for SOCKS5, the user ID for SOCKS4 (which cannot carry a
// password: that is an error). A path, query or fragment is an error.
// Passwords never appear in what this package prints or logs.
//
// In a PAC answer, PROXY is http://, HTTPS https://, SOCKS and SOCKS4
// socks4:// and SOCKS5 socks5:// with the proxy resolving names, as in
// Chromium. A PAC answer cannot carry credentials: an entry with user
// information ("PROXY user:pass@host", "PROXY evil:80@proxy:3128") is
// dropped, as is one whose host has percent-encoding or any other
// character a host cannot have. A proxy it names gets those of a proxy
// with the same address that the user configured (Config.Credentials,
// the environment or an explicit rule), and no others. The same address
// is the same port and the same canonical host: names are compared in
// lower case and punycode ("PROXY.EXAMPLE", "ｐｒｏｘｙ.example" and
// "proxy.example" are one name, "proxy.example." another: a relative name
// may be completed by the DNS search list, an absolute one is not), IP
// addresses as addresses (127.1, 2130706433, 0x7f.1 and ::ffff:127.0.0.1
// are 127.0.0.1), and a name never matches an address, whatever it
// resolves to (localhost is not 127.0.0.1): no DNS lookup is made. The
// credentials also keep to their protocol: an http:// proxy's go to PROXY
// and HTTPS, an https:// proxy's to HTTPS only (never from TLS to clear
// text), a SOCKS5 login to SOCKS5 and a SOCKS4 user ID to SOCKS and
// SOCKS4. Fail-over never moves credentials from one entry to the next,
// a proxy that asks for credentials pacd has none for gets none (its
// refusal ends the attempt: see below), and [Transport] drops a
// request's own Proxy-Authorization header, which would otherwise go
// wherever the answer says.
//
// # The environment
//
// HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY are each read from the
// lower-case variable unless it is empty, else from the upper-case one
// (as curl and golang.org/x/net/http/httpproxy since v0.58 do; Go's
// net/http still reads upper case first). https and wss URLs use
// HTTPS_PROXY, http and ws URLs HTTP_PROXY, and ALL_PROXY serves the URLs
// of those schemes whose variable is unset and every other scheme. When
// REQUEST_METHOD is set the upper-case HTTP_PROXY is ignored, with a
// warning (see Resolver.Warnings): in a CGI program it can be a client's
// "Proxy:" header. A value that cannot be used is ignored with a warning,
// as other clients ignore it; explicit settings, by contrast, are checked
// strictly and New fails on a bad one.
//
// # Bypass lists
//
// NO_PROXY and Config.Bypass share one grammar. Entries are separated by
// commas, semicolons or white space, blanks around them are ignored, and
// case does not matter. Each entry is one of:
//
//   - "*": every destination (anywhere in the list, as Go, HTTPX and
//     proxy-from-env read it; curl and Python only honour it alone);
//   - a domain, "example.com", ".example.com" or "*.example.com", all
//     three meaning the name itself and every name below it, at a label
//     boundary ("notexample.com" is not below "example.com"); a trailing
//     dot is ignored on entries and destinations alike;
//   - a glob with '*' or '?' elsewhere, matched against the whole name
//     with '*' crossing dots, as Chromium's bypass rules do:
//     "*example.com" matches "notexample.com", "build-*.corp" matches
//     "build-7.corp";
//   - an IPv4 or IPv6 address, with or without brackets, or a CIDR block
//     of either family ("10.0.0.0/8", "2001:db8::/32"); addresses are
//     compared as addresses, so IPv4-mapped and non-canonical spellings
//     match;
//   - any of these but a CIDR block followed by ":port" ("[::1]:8080"),
//     which then matches only that port, compared with the destination's
//     effective port (the scheme's default when the URL gives none);
//   - "<local>": every name without a dot that is not an address;
//   - "<-loopback>": lifts the implicit rule below.
//
// Names are compared in punycode. Name entries never match addresses, and
// address entries never match names: no DNS lookup is ever made. An entry
// with a scheme ("http://example.com") is not understood.
//
// # The implicit rule
//
// localhost and every name below it (localhost., LOCALHOST included),
// the loopback networks 127.0.0.0/8 and ::1 (IPv4-mapped too), and the
// link-local networks 169.254.0.0/16 and fe80::/10 are never proxied,
// whatever a PAC script or rule says, unless Config.ProxyLoopback is set
// or a bypass list says "<-loopback>": as Chromium and Qt do, because
// these are where secrets live (local services, cloud metadata
// endpoints) and a PAC script may come from an attacker.
//
// # Explicit rules
//
// Mounts follow HTTPX: see [Mount] for the pattern grammar, and they are
// tried in HTTPX's priority order: a pattern with a port before one
// without, then the longer host, then the longer scheme, then the order
// given; the first that matches decides. A proxies dict follows Requests:
// the keys "scheme://host", "scheme", "all://host" and "all" are looked
// up in that order and the first present decides, host meaning the URL's
// lower-case host without port. In both, "none" means DIRECT. A rule that
// names hosts (a mount with a host pattern, a dict key with a host) is
// stronger than the bypass list; the others are not.
//
// # Kinds of connection
//
// As in Qt's model, a [Query] says what the connection is for: a URL
// request, a TCP stream (what DialContext makes), UDP or a listening
// socket. A proxy that cannot carry a kind is left out of the decision
// for it. pacd carries TCP streams and HTTP requests through every proxy
// type, and UDP and listening sockets through none.
//
// # Client flavours
//
// Config.Flavor replaces all of the above with one client's own reading,
// quirks included: Go's x/net and net/http, curl, Python's urllib,
// requests, Node's proxy-from-env, HTTPX or Chromium (see [Flavor]).
// Each flavour's file documents its clauses; a Decision made under one
// names, in Decision.Clauses, the client's rules that made it differ
// from the canonical reading, and a configuration the client refuses is
// a [*RefusedError].
//
// # Applying a decision
//
// A connection tries the decision's proxies in order. It moves to the
// next only when one cannot be reached: its name does not resolve, the
// TCP connection or the TLS handshake fails or times out, or it breaks
// off the handshake ([ReachError]); a proxy that answers with a refusal
// ([ProxyRefusedError], [ProxyAuthError]) ends the attempt, as in
// Chromium, so that a proxy's "no" never leaks traffic to the next entry.
// A proxy that could not be reached goes to the end of every list for
// Config.RetryInterval (5 minutes), and is never dropped.
package resolver
