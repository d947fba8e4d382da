// Command server is an hq-interop (HTTP/0.9 over QUIC) file server built on quic-go's public
// API. purequic's interop tests and benchmark run it as the quic-go peer; it is our code (not
// quic-go's interop endpoint), so that paths, port and logging are ours to choose instead of the
// interop runner's hard-coded /www, /certs and :443.
//
// Request: one client-initiated bidirectional stream per file carrying "GET /path\r\n" and FIN.
// Response: the file's bytes, then FIN. A malformed request or a missing file resets the
// stream (RESET_STREAM) so that a client can never mistake an error for file content.
//
// Test cases beyond a plain transfer: "http3" serves the files over HTTP/3 (quic-go's http3
// package and net/http's file server) instead of HTTP/0.9; "retry" sends a Retry to every client (quic-go's
// RequireAddressValidation), "zerortt" accepts 0-RTT (an early listener; the TLS stack issues
// tickets that allow it), "resumption" needs nothing special (tickets are always issued).
//
// It prints "listening on ADDR" once the socket is bound, then one line per connection:
// "handshake complete: remote=ADDR alpn=A cipher=C resumed=yes|no 0rtt=yes|no".
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/http3"

	"../trace"
)

// Stream error codes we reset with (application-chosen; HTTP/0.9 defines none).
const (
	errorBadRequest = 0x10
	errorNotFound   = 0x11
)

func main() {
	listen := flag.String("listen", "127.0.0.1:4433", "UDP address to listen on (port 0 picks a free one)")
	www := flag.String("www", "/www", "directory to serve")
	certFile := flag.String("cert", "/certs/cert.pem", "certificate chain (PEM)")
	keyFile := flag.String("key", "/certs/priv.key", "private key (PEM)")
	testcase := flag.String("testcase", os.Getenv("TESTCASE"), "interop runner test case")
	keyLogFile := flag.String("keylog", os.Getenv("SSLKEYLOGFILE"), "TLS key log file (optional)")
	alpn := flag.String("alpn", "hq-interop", "ALPN protocol")
	keyUpdateInterval := flag.Uint64("key-update-interval", 0, "initiate a 1-RTT key update every N packets (0: quic-go's default)")
	flag.Parse()

	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		fail(1, "loading certificate: %v", err)
	}
	tlsConf := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{*alpn}}
	if *keyLogFile != "" {
		f, err := os.Create(*keyLogFile)
		if err != nil {
			fail(1, "creating key log: %v", err)
		}
		defer f.Close()
		tlsConf.KeyLogWriter = f
	}
	// A 30 s handshake timeout (quic-go's default is 5 s) so that tests with 30% burst loss
	// (runner "handshakeloss") do not fail a handshake that PTO backoff would still complete.
	quicConf := &quic.Config{Tracer: trace.Tracer{}, HandshakeIdleTimeout: 30 * time.Second}
	early := false
	h3 := false
	switch *testcase {
	case "handshake", "transfer", "multiplexing", "multiconnect", "resumption", "":
	case "chacha20":
		tlsConf.CipherSuites = []uint16{tls.TLS_CHACHA20_POLY1305_SHA256}
	case "retry":
		quicConf.RequireAddressValidation = func(net.Addr) bool { return true }
	case "zerortt":
		early = true
	case "http3":
		h3 = true
	default:
		fail(127, "unsupported test case: %s", *testcase)
	}

	if *keyUpdateInterval > 0 {
		trace.SetKeyUpdateInterval(*keyUpdateInterval)
	}

	if h3 {
		// The runner's http3: the files over HTTP/3 (quic-go's http3 package; it sets ALPN h3).
		pc, err := net.ListenPacket("udp", *listen)
		if err != nil {
			fail(1, "listen: %v", err)
		}
		fmt.Printf("listening on %s\n", pc.LocalAddr())
		server := &http3.Server{Handler: http.FileServer(http.Dir(*www)), TLSConfig: tlsConf, QuicConfig: quicConf}
		fail(1, "serve: %v", server.Serve(pc))
	}

	if early {
		// An early listener hands out connections before the handshake completes, so that the
		// requests that came in 0-RTT are served at once.
		ln, err := quic.ListenAddrEarly(*listen, tlsConf, quicConf)
		if err != nil {
			fail(1, "listen: %v", err)
		}
		fmt.Printf("listening on %s\n", ln.Addr())
		for {
			conn, err := ln.Accept(context.Background())
			if err != nil {
				fail(1, "accept: %v", err)
			}
			go func() {
				<-conn.HandshakeComplete().Done()
				reportHandshake(conn)
			}()
			go serveConnection(conn, *www)
		}
	}
	ln, err := quic.ListenAddr(*listen, tlsConf, quicConf)
	if err != nil {
		fail(1, "listen: %v", err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	for {
		conn, err := ln.Accept(context.Background())
		if err != nil {
			fail(1, "accept: %v", err)
		}
		reportHandshake(conn)
		go serveConnection(conn, *www)
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// reportHandshake prints what the handshake settled; ConnectionState waits for its completion.
func reportHandshake(conn quic.Connection) {
	state := conn.ConnectionState().TLS
	fmt.Printf("handshake complete: remote=%s alpn=%s cipher=%s resumed=%s 0rtt=%s\n", conn.RemoteAddr(), state.NegotiatedProtocol,
		tls.CipherSuiteName(state.CipherSuite), yesNo(state.DidResume), yesNo(state.Used0RTT))
}

func serveConnection(conn quic.Connection, root string) {
	for {
		stream, err := conn.AcceptStream(context.Background())
		if err != nil {
			fmt.Printf("connection ended: %v\n", err)
			return
		}
		go serveStream(stream, root)
	}
}

func serveStream(stream quic.Stream, root string) {
	// A request line is short; 8 KiB bounds what a peer can make us buffer.
	request, err := io.ReadAll(io.LimitReader(stream, 8<<10))
	if err != nil {
		stream.CancelWrite(errorBadRequest)
		return
	}
	line := strings.TrimRight(string(request), "\r\n ")
	if !strings.HasPrefix(line, "GET /") {
		stream.CancelRead(errorBadRequest)
		stream.CancelWrite(errorBadRequest)
		return
	}
	target := line[len("GET "):]
	if i := strings.IndexAny(target, "?#"); i >= 0 {
		target = target[:i]
	}
	// path.Clean on a rooted path never climbs above "/", so the file stays under root.
	file, err := os.Open(filepath.Join(root, filepath.FromSlash(path.Clean(target))))
	if err == nil {
		var info os.FileInfo
		if info, err = file.Stat(); err == nil && info.IsDir() {
			err = fmt.Errorf("%s is a directory", target)
		}
	}
	if err != nil {
		fmt.Printf("not found: %s\n", target)
		stream.CancelWrite(errorNotFound)
		return
	}
	defer file.Close()
	if _, err := io.Copy(stream, file); err != nil {
		fmt.Printf("sending %s: %v\n", target, err)
		stream.CancelWrite(errorNotFound)
		return
	}
	stream.Close()
}

func fail(code int, format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(code)
}
