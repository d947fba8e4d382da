// Command client is an hq-interop (HTTP/0.9 over QUIC) downloader built on quic-go's public API,
// the quic-go peer of purequic's interop tests and benchmark. It is our code, not quic-go's
// interop endpoint: it writes where -downloads says instead of the runner's fixed /downloads.
//
// It opens ONE connection to the host of the first URL (one per URL, in turn, for TESTCASE
// multiconnect) and fetches every URL on its own bidirectional stream, all concurrently ("GET /path\r\n" + FIN, the response ends at FIN).
// For "resumption" and "zerortt" the first URL is fetched on a first connection, which leaves a
// TLS session ticket in the client's session cache, and the rest on a second connection that
// resumes it (and, for zerortt, sends its requests in 0-RTT before the handshake completes); the
// run fails unless the second connection did resume (and its 0-RTT was accepted).
// Exit status follows the interop runner: 0 all files downloaded, 1 failure, 127 unsupported
// test case. On success it prints "downloaded N files, B bytes in T ms".
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/http3"

	"../trace"
)

func main() {
	downloads := flag.String("downloads", "/downloads", "directory to write the files into")
	testcase := flag.String("testcase", os.Getenv("TESTCASE"), "interop runner test case")
	keyLogFile := flag.String("keylog", os.Getenv("SSLKEYLOGFILE"), "TLS key log file (optional)")
	alpn := flag.String("alpn", "hq-interop", "ALPN protocol")
	keyUpdateInterval := flag.Uint64("key-update-interval", 0, "initiate a 1-RTT key update every N packets (0: quic-go's default)")
	flag.Parse()
	urls := flag.Args()
	if len(urls) == 0 {
		urls = strings.Fields(os.Getenv("REQUESTS"))
	}
	if len(urls) == 0 {
		fail(1, "no URLs (arguments or REQUESTS)")
	}

	// Interop peers use throwaway certificates: skip verification like the runner's clients.
	tlsConf := &tls.Config{InsecureSkipVerify: true, NextProtos: []string{*alpn}}
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
	connectionPerURL := false
	resumption := ""
	h3 := false
	switch *testcase {
	case "handshake", "multiplexing", "retry", "":
	case "resumption", "zerortt":
		resumption = *testcase
	case "multiconnect":
		connectionPerURL = true
	case "http3":
		h3 = true
	case "transfer":
		// Small initial windows so that flow control has to grow them (runner's "transfer").
		quicConf.InitialStreamReceiveWindow = 64 << 10
		quicConf.InitialConnectionReceiveWindow = 128 << 10
	case "chacha20":
		tlsConf.CipherSuites = []uint16{tls.TLS_CHACHA20_POLY1305_SHA256}
	case "keyupdate":
		// Runner "keyupdate": a key update within the first MB (quic-go's interop client uses 100).
		if *keyUpdateInterval == 0 {
			*keyUpdateInterval = 100
		}
	default:
		fail(127, "unsupported test case: %s", *testcase)
	}

	if *keyUpdateInterval > 0 {
		trace.SetKeyUpdateInterval(*keyUpdateInterval)
	}

	started := time.Now()
	var total int64
	if h3 {
		n, err := fetchHTTP3(tlsConf, quicConf, urls, *downloads)
		total = n
		if err != nil {
			fail(1, "%v", err)
		}
	} else if resumption != "" {
		n, err := fetchResumed(tlsConf, quicConf, urls, *downloads, resumption == "zerortt")
		total = n
		if err != nil {
			fail(1, "%v", err)
		}
	} else if connectionPerURL {
		for _, raw := range urls {
			n, err := fetchAll(tlsConf, quicConf, []string{raw}, *downloads)
			total += n
			if err != nil {
				fail(1, "%v", err)
			}
		}
	} else {
		n, err := fetchAll(tlsConf, quicConf, urls, *downloads)
		total = n
		if err != nil {
			fail(1, "%v", err)
		}
	}
	fmt.Printf("downloaded %d files, %d bytes in %d ms\n", len(urls), total, time.Since(started).Milliseconds())
}

// ticketCache is a TLS session cache that signals each ticket it stores.
type ticketCache struct {
	tls.ClientSessionCache
	stored chan struct{}
}

func (c *ticketCache) Put(key string, state *tls.ClientSessionState) {
	c.ClientSessionCache.Put(key, state)
	if state != nil {
		select {
		case c.stored <- struct{}{}:
		default:
		}
	}
}

// fetchResumed fetches the first URL, waits for a session ticket, then fetches the rest on a
// second connection that must resume the session (with early: requests in 0-RTT, accepted).
func fetchResumed(tlsConf *tls.Config, quicConf *quic.Config, urls []string, dir string, early bool) (int64, error) {
	if len(urls) < 2 {
		return 0, fmt.Errorf("resumption needs at least 2 URLs")
	}
	cache := &ticketCache{ClientSessionCache: tls.NewLRUClientSessionCache(4), stored: make(chan struct{}, 1)}
	tlsConf.ClientSessionCache = cache
	var total int64
	n, err := fetchAllWith(tlsConf, quicConf, urls[:1], dir, false, func(quic.Connection) error {
		select {
		case <-cache.stored:
			return nil
		case <-time.After(10 * time.Second):
			return fmt.Errorf("no session ticket within 10 s")
		}
	})
	total += n
	if err != nil {
		return total, err
	}
	n, err = fetchAllWith(tlsConf, quicConf, urls[1:], dir, early, func(conn quic.Connection) error {
		state := conn.ConnectionState().TLS
		if !state.DidResume {
			return fmt.Errorf("the second connection did not resume")
		}
		if early && !state.Used0RTT {
			return fmt.Errorf("the server did not accept 0-RTT")
		}
		return nil
	})
	return total + n, err
}

// fetchAll opens one connection to the first URL's host and downloads every URL on it at once.
func fetchAll(tlsConf *tls.Config, quicConf *quic.Config, urls []string, dir string) (int64, error) {
	return fetchAllWith(tlsConf, quicConf, urls, dir, false, nil)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// fetchAllWith is fetchAll, optionally sending the requests in 0-RTT (early: they go before the
// handshake completes) and running check once everything is downloaded, before closing.
func fetchAllWith(tlsConf *tls.Config, quicConf *quic.Config, urls []string, dir string, early bool, check func(quic.Connection) error) (int64, error) {
	first, err := url.Parse(urls[0])
	if err != nil {
		return 0, fmt.Errorf("bad URL %q: %v", urls[0], err)
	}
	var conn quic.Connection
	if early {
		earlyConn, err := quic.DialAddrEarly(first.Host, tlsConf, quicConf)
		if err != nil {
			return 0, fmt.Errorf("connecting to %s: %v", first.Host, err)
		}
		conn = earlyConn
		go func() {
			<-earlyConn.HandshakeComplete().Done()
			reportHandshake(earlyConn)
		}()
	} else {
		conn, err = quic.DialAddr(first.Host, tlsConf, quicConf)
		if err != nil {
			return 0, fmt.Errorf("connecting to %s: %v", first.Host, err)
		}
		reportHandshake(conn)
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	var total int64
	var firstErr error
	for _, raw := range urls {
		wg.Add(1)
		go func(raw string) {
			defer wg.Done()
			n, err := download(conn, raw, dir)
			mu.Lock()
			defer mu.Unlock()
			total += n
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}(raw)
	}
	wg.Wait()
	if firstErr == nil && check != nil {
		firstErr = check(conn)
	}
	if firstErr != nil {
		conn.CloseWithError(1, "download failed")
		return total, firstErr
	}
	conn.CloseWithError(0, "")
	return total, nil
}

// reportHandshake prints what the handshake settled; ConnectionState waits for its completion.
func reportHandshake(conn quic.Connection) {
	state := conn.ConnectionState().TLS
	fmt.Printf("handshake complete: alpn=%s cipher=%s resumed=%s 0rtt=%s\n", state.NegotiatedProtocol, tls.CipherSuiteName(state.CipherSuite), yesNo(state.DidResume), yesNo(state.Used0RTT))
}

func download(conn quic.Connection, raw string, dir string) (int64, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return 0, fmt.Errorf("bad URL %q: %v", raw, err)
	}
	stream, err := conn.OpenStreamSync(context.Background())
	if err != nil {
		return 0, fmt.Errorf("opening a stream for %s: %v", u.Path, err)
	}
	if _, err := stream.Write([]byte("GET " + u.Path + "\r\n")); err != nil {
		return 0, fmt.Errorf("requesting %s: %v", u.Path, err)
	}
	stream.Close()
	name := path.Base(path.Clean("/" + u.Path))
	file, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return 0, err
	}
	defer file.Close()
	n, err := io.Copy(file, stream)
	if err != nil {
		return n, fmt.Errorf("receiving %s: %v", u.Path, err)
	}
	return n, nil
}

// fetchHTTP3 GETs every URL at once over HTTP/3 (one connection, quic-go's http3 round tripper)
// and writes each 200 response's body under dir.
func fetchHTTP3(tlsConf *tls.Config, quicConf *quic.Config, urls []string, dir string) (int64, error) {
	tlsConf.NextProtos = []string{"h3"}
	rt := &http3.RoundTripper{TLSClientConfig: tlsConf, QuicConfig: quicConf}
	defer rt.Close()
	client := &http.Client{Transport: rt}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total int64
	var firstErr error
	for _, raw := range urls {
		wg.Add(1)
		go func(raw string) {
			defer wg.Done()
			n, err := getHTTP3(client, raw, dir)
			mu.Lock()
			defer mu.Unlock()
			total += n
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}(raw)
	}
	wg.Wait()
	return total, firstErr
}

func getHTTP3(client *http.Client, raw string, dir string) (int64, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return 0, err
	}
	resp, err := client.Get(raw)
	if err != nil {
		return 0, fmt.Errorf("GET %s: %v", raw, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: status %d", raw, resp.StatusCode)
	}
	out, err := os.Create(filepath.Join(dir, path.Base(path.Clean("/"+u.Path))))
	if err != nil {
		return 0, err
	}
	defer out.Close()
	return io.Copy(out, resp.Body)
}

func fail(code int, format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(code)
}
