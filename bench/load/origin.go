package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// The origin serves three loopback ports:
//
//   - http: GET /small answers 64 bytes, GET /bytes?n=N answers N bytes,
//     GET /stats the counters below as JSON; keep-alive. The count of
//     HTTP connections shows a proxy that does not keep its connections
//     to the origin alive.
//   - source: a client sends a decimal byte count and a newline, and the
//     origin sends that many bytes and closes (0: until the client goes).
//   - hold: connections are accepted and left idle until the client
//     closes them.

var (
	holdOpen    atomic.Int64 // hold connections open now
	sourceConns atomic.Int64 // source connections served
	httpConns   atomic.Int64 // HTTP connections accepted
)

// smallBody is the 64-byte answer of /small.
var smallBody = []byte(strings.Repeat("pacd-bench-", 6)[:63] + "\n")

// chunk is what the source port and /bytes send, over and over.
var chunk = func() []byte {
	b := make([]byte, 128<<10)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}()

func runOrigin(args []string) error {
	fs := newFlags("origin")
	listen := fs.String("listen", "127.0.0.1:0", "the HTTP origin's `address`")
	sourceListen := fs.String("source-listen", "", "the byte source's `address` (default: the HTTP host, any port)")
	holdListen := fs.String("hold-listen", "", "the hold port's `address` (default: the HTTP host, any port)")
	addrFile := fs.String("addr-file", "", "write the addresses to this `file` as HTTP=, SOURCE=, HOLD= lines")
	fs.Parse(args)
	nofile := raiseNofile()

	for _, a := range []string{*listen, *sourceListen, *holdListen} {
		if a == "" {
			continue
		}
		if err := loopbackHostPort(a); err != nil {
			return err
		}
	}
	host, _, _ := net.SplitHostPort(*listen)
	if *sourceListen == "" {
		*sourceListen = net.JoinHostPort(host, "0")
	}
	if *holdListen == "" {
		*holdListen = net.JoinHostPort(host, "0")
	}
	hln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	sln, err := net.Listen("tcp", *sourceListen)
	if err != nil {
		return err
	}
	oln, err := net.Listen("tcp", *holdListen)
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /small", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", "64")
		w.Write(smallBody)
	})
	mux.HandleFunc("GET /bytes", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
		if err != nil || n < 0 {
			http.Error(w, "want n=BYTES", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		writeN(w, n)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"hold_open":%d,"source_conns":%d,"http_conns":%d}`+"\n", holdOpen.Load(), sourceConns.Load(), httpConns.Load())
	})
	srv := &http.Server{
		Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 5 * time.Minute,
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				httpConns.Add(1)
			}
		},
	}
	go srv.Serve(hln)
	go acceptLoop(sln, serveSource)
	go acceptLoop(oln, serveHold)

	addrs := map[string]string{
		"http":   hln.Addr().String(),
		"source": sln.Addr().String(),
		"hold":   oln.Addr().String(),
	}
	if *addrFile != "" {
		text := fmt.Sprintf("HTTP=%s\nSOURCE=%s\nHOLD=%s\n", addrs["http"], addrs["source"], addrs["hold"])
		tmp := filepath.Join(filepath.Dir(*addrFile), "."+filepath.Base(*addrFile)+".tmp")
		if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, *addrFile); err != nil {
			return err
		}
	}
	emit(map[string]any{"kind": "origin", "http": addrs["http"], "source": addrs["source"], "hold": addrs["hold"], "nofile": nofile})
	logf("origin: http %s, source %s, hold %s (open files limit %d)", addrs["http"], addrs["source"], addrs["hold"], nofile)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	sln.Close()
	oln.Close()
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return nil
}

func acceptLoop(ln net.Listener, serve func(net.Conn)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			if strings.Contains(err.Error(), "too many open files") {
				logf("origin: accept: %v", err)
				time.Sleep(50 * time.Millisecond)
				continue
			}
			return
		}
		go serve(c)
	}
}

// writeN writes n bytes of chunk to w; n == 0 with forever writes until
// an error.
func writeN(w io.Writer, n int64) (int64, error) {
	var sent int64
	for n > 0 {
		b := chunk
		if int64(len(b)) > n {
			b = b[:n]
		}
		m, err := w.Write(b)
		sent += int64(m)
		n -= int64(m)
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

func serveSource(c net.Conn) {
	defer c.Close()
	sourceConns.Add(1)
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	line, err := bufio.NewReaderSize(c, 64).ReadString('\n')
	if err != nil {
		return
	}
	c.SetReadDeadline(time.Time{})
	n, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	if err != nil || n < 0 {
		fmt.Fprintf(c, "bad count %q\n", strings.TrimSpace(line))
		return
	}
	if n == 0 {
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	}
	writeN(c, n)
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	// Wait for the client to finish reading and close, so that the
	// origin is never the side left in TIME_WAIT.
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	io.Copy(io.Discard, c)
}

func serveHold(c net.Conn) {
	holdOpen.Add(1)
	defer holdOpen.Add(-1)
	defer c.Close()
	io.Copy(io.Discard, c)
}
