package daemon

import (
	"io"
	"net"
	"sync/atomic"
)

// limitListener caps the client connections open at once. Unlike
// golang.org/x/net/netutil's, it neither wraps connections (a wrapped
// connection is not a *net.TCPConn, and copying between two of those is
// what lets the kernel splice a tunnel's bytes) nor stops accepting when
// full (a client would then wait in the kernel's queue without a word):
// a connection over the limit is answered, by reject, and closed.
type limitListener struct {
	net.Listener
	open   *atomic.Int64
	max    int64
	reject func(net.Conn)
	onFull func()
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.max {
			return c, nil
		}
		l.open.Add(-1)
		if l.onFull != nil {
			l.onFull()
		}
		go func() {
			defer c.Close()
			l.reject(c)
		}()
	}
}

// rejectHTTP answers a connection over the limit with 503.
func rejectHTTP(c net.Conn) {
	io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 37\r\n\r\npacd: too many connections, try later")
}

// rejectSOCKS closes a SOCKS connection over the limit: the protocol has
// no answer before the client's greeting.
func rejectSOCKS(net.Conn) {}
