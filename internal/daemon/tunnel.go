package daemon

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
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
//
// Once one side has finished, the other may stay silent for at most
// Config.IdleTimeout (checked every IdleTimeout, so between one and two
// of them): a client that closed its connection looks the same as one
// that only shut down its sending side, and an upstream that never
// answers would otherwise hold the tunnel, its descriptors and its
// goroutine for good.
func (s *Server) tunnel(client, up net.Conn, first []byte) (upBytes, downBytes int64) {
	s.m.tunnels.Add(1)
	defer s.m.tunnels.Add(-1)
	// Shutdown closes the upstream side too, when the drain time is up:
	// closing the client's side does not end a copy that waits on the
	// upstream's.
	s.mu.Lock()
	s.conns[up] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, up)
		s.mu.Unlock()
		up.Close()
	}()
	upward := &half{dst: up, src: client, linger: s.cfg.IdleTimeout}
	downward := &half{dst: client, src: up, linger: s.cfg.IdleTimeout}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		downBytes = downward.copy(nil, upward)
	}()
	upBytes = upward.copy(first, downward)
	wg.Wait()
	s.m.bytes(upBytes, downBytes)
	return upBytes, downBytes
}

// half is one direction of a tunnel.
type half struct {
	dst, src  net.Conn
	linger    time.Duration
	lingering atomic.Bool // the other direction has finished
}

// otherDone tells h that the other direction has finished: from now on h
// gives up when its source stays silent for the linger time.
func (h *half) otherDone() {
	h.lingering.Store(true)
	h.src.SetReadDeadline(time.Now().Add(h.linger))
}

// idle reports whether a read that failed with err should end the copy
// for silence, and otherwise extends the read deadline: it is a timeout
// while lingering, and no byte moved since the last one.
func (h *half) idle(err error, n int64, mark *int64) bool {
	var ne net.Error
	if !h.lingering.Load() || !errors.As(err, &ne) || !ne.Timeout() {
		return true // not the linger deadline: a real failure
	}
	if n == *mark {
		return true
	}
	*mark = n
	h.src.SetReadDeadline(time.Now().Add(h.linger))
	return false
}

// copy copies src to dst, then half-closes dst (or closes both, if dst
// cannot be half-closed or the copy failed), and tells other.
//
// It reads into a small buffer until a read fills it, that is until bulk
// data flows; from then on io.Copy moves the bytes, which between two TCP
// connections lets the kernel splice them without passing through user
// space. A tunnel that stays idle thus costs a small buffer rather than
// io.Copy's 32 KiB and the two pipe descriptors a waiting splice holds.
func (h *half) copy(first []byte, other *half) int64 {
	dst, src := h.dst, h.src
	var n int64
	mark := int64(-1)
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
	for buf != nil {
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
			if errors.Is(err, io.EOF) || h.idle(err, n, &mark) {
				break
			}
			err = nil
			continue
		}
		if m == len(buf) {
			buf = nil
		}
	}
	for err == nil {
		var c int64
		c, err = io.Copy(dst, src)
		n += c
		if err != nil && !h.idle(err, n, &mark) {
			err = nil
			continue
		}
		break
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return fail()
	}
	if cw, ok := dst.(closeWriter); ok {
		cw.CloseWrite()
	} else {
		dst.Close()
	}
	other.otherDone()
	return n
}

// smallCopy is the buffer a direction of a tunnel reads into before bulk
// data flows.
const smallCopy = 1024
