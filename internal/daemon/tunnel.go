package daemon

import (
	"errors"
	"io"
	"net"
	"sync"
)

// closeWriter is a connection that can be half-closed: *net.TCPConn,
// *tls.Conn and the resolver's tunnels over them.
type closeWriter interface {
	CloseWrite() error
}

// tunnel copies bytes both ways between client and up until both sides
// are done, closing each side's write half as the other side finishes,
// so that a client that shuts down its sending side still gets the rest
// of the answer. first is what the client already sent. It returns the
// bytes sent up (client to upstream) and down.
func (s *Server) tunnel(client, up net.Conn, first []byte) (upBytes, downBytes int64) {
	s.m.tunnels.Add(1)
	defer s.m.tunnels.Add(-1)
	defer up.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		downBytes = copyHalf(client, up, nil)
	}()
	upBytes = copyHalf(up, client, first)
	wg.Wait()
	s.m.bytes(upBytes, downBytes)
	return upBytes, downBytes
}

// copyHalf copies src to dst, then half-closes dst (or closes it, if it
// cannot be half-closed). io.Copy between two TCP connections uses
// splice(2) on Linux, so the bytes do not pass through user space.
func copyHalf(dst, src net.Conn, first []byte) int64 {
	var n int64
	if len(first) > 0 {
		m, err := dst.Write(first)
		n += int64(m)
		if err != nil {
			dst.Close()
			return n
		}
	}
	m, err := io.Copy(dst, src)
	n += m
	if cw, ok := dst.(closeWriter); ok && (err == nil || errors.Is(err, io.EOF)) {
		cw.CloseWrite()
	} else {
		dst.Close()
		src.Close()
	}
	return n
}
