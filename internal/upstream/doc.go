// Package upstream starts real upstream proxies, and the servers behind
// them, for pacd's integration tests. Nothing here is a mock: each Start
// function runs the Debian-packaged daemon (installed by
// scripts/install-deps.sh) on a free loopback port, waits until it has
// proxied a request, and stops it when the test ends.
//
// # Which server for which scenario
//
//	Scenario                                          Helper
//	HTTP upstream, with or without Basic, GET+CONNECT StartSquid or StartTinyproxy
//	HTTPS upstream (TLS to the proxy)                 StartSquid with SquidOptions.TLS
//	SOCKS5, without or with user/password             StartMicrosocks
//	SOCKS4                                            StartDante
//	SOCKS5 checked against the system password file   StartDante with a Username (root only)
//	Failover: refused, silent, working origin         ClosedAddr, StartBlackhole, StartOrigin
//
// Squid is the reference HTTP proxy; tinyproxy starts and stops faster but
// answers wrong credentials with 401 Unauthorized, not 407 (a real-world
// quirk worth testing against). Microsocks speaks only SOCKS5; dante speaks
// SOCKS4 and SOCKS5 but rejects SOCKS4a.
//
// # What the helpers take care of
//
//   - Ports are picked at run time (listen on 127.0.0.1:0, close, use the
//     port). If something else takes the port before the daemon binds it,
//     the start is retried on new ports. Most daemons exit then, but squid
//     logs "Address already in use" and carries on with its other ports,
//     so the logs are watched too.
//   - Every listener is on 127.0.0.1; dante's and microsocks' outgoing
//     connections are bound to it; squid's DNS socket and server are on
//     127.0.0.1 and it has a fixed visible_hostname. So a daemon sends
//     nothing off the machine unless a test asks it for a remote address,
//     and none should.
//   - As root, daemons run as the user nobody with no supplementary
//     groups: a root squid switches to the user proxy and then cannot
//     write its logs, and a proxy has no business being root in a test.
//     Their working directory, a t.TempDir, is handed to nobody, and the
//     testing package's parent directory (mode 0700) is made searchable.
//   - Every daemon runs in the foreground in its own process group, and
//     Cleanup kills the whole group (dante forks about twenty helpers,
//     squid its auth helpers) with SIGKILL: squid takes about 4 s to stop
//     on SIGTERM. If the test process dies instead, the parent-death
//     signal (SIGKILL) takes the daemons along; dante with username auth,
//     which changes its credentials and so loses that signal, runs in a
//     PID namespace whose init keeps it.
//   - Squid gets a unique alphanumeric -n service name per instance, so
//     several can run at once, and its /dev/shm/<name>-* segments, which a
//     SIGKILL leaves behind, are removed; so are segments of earlier test
//     processes that died. Its config sets pid_filename (the default
//     /run/squid.pid is not writable) and avoids every directory outside
//     the test's own.
//   - Dante's username method checks the system password database. StartDante
//     copies /etc/passwd and /etc/shadow, adds the test user to the copies
//     and bind-mounts them over the originals in a private mount namespace
//     (unshare -m), so the host's files are never touched. That needs root.
//   - Readiness is a real proxied request to a throwaway origin, with a
//     deadline; a daemon that dies on start fails the test at once.
//   - When a test fails, Cleanup logs the tail of the daemon's log files.
//   - A missing binary skips the test with a message naming it, except when
//     the environment variable CI is "true": CI must never pass by skipping,
//     so there it fails. The same rule covers features that need root.
//
// All helpers may be used from parallel tests; each call starts its own
// daemon. They are for tests only and take a [testing.TB].
package upstream
