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

// copyHalf copies src to dst, then half-closes dst (or closes both, if
// dst cannot be half-closed or the copy failed).
//
// It reads into a small buffer until a read fills it, that is until bulk
// data flows; from then on io.Copy moves the bytes, which between two TCP
// connections lets the kernel splice them without passing through user
// space. A tunnel that stays idle thus costs a small buffer rather than
// io.Copy's 32 KiB and the two pipe descriptors a waiting splice holds.
func copyHalf(dst, src net.Conn, first []byte) int64 {
	var n int64
	fail := func() int64 {
		dst.Close()
		src.Close()
		return n
	}
	if len(first) > 0 {
		m, err := dst.Write(first)
		n += int64(m)
		if err != nil {
			return fail()
		}
	}
	var err error
	buf := make([]byte, smallCopy)
	for {
		var m int
		m, err = src.Read(buf)
		if m > 0 {
			w, werr := dst.Write(buf[:m])
			n += int64(w)
			if werr != nil {
				return fail()
			}
		}
		if err != nil {
			break
		}
		if m == len(buf) {
			buf = nil
			var c int64
			c, err = io.Copy(dst, src)
			n += c
			break
		}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return fail()
	}
	if cw, ok := dst.(closeWriter); ok {
		cw.CloseWrite()
	} else {
		dst.Close()
	}
	return n
}

// smallCopy is the buffer a direction of a tunnel reads into before bulk
// data flows.
const smallCopy = 1024
