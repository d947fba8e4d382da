// Package trace is the small quic-go tracer our hq-interop wrappers share: it counts 1-RTT key
// updates and prints them when a connection ends, and it lets a wrapper lower quic-go's key
// update interval so that key updates happen within a short transfer (runner "keyupdate").
package trace

import (
	"context"
	"fmt"
	"sync"
	_ "unsafe" // go:linkname

	"github.com/lucas-clemente/quic-go/logging"
)

// quic-go 0.29 keeps its key update interval (packets per key phase, 100,000 by default) in an
// internal package; its own interop client lowers it the same way for the "keyupdate" case.
//
//go:linkname keyUpdateInterval github.com/lucas-clemente/quic-go/internal/handshake.KeyUpdateInterval
var keyUpdateInterval uint64

// SetKeyUpdateInterval makes connections created afterwards initiate a key update every n packets.
func SetKeyUpdateInterval(n uint64) {
	keyUpdateInterval = n
}

// Tracer prints "key updates: local=N remote=M" for each connection when it closes.
type Tracer struct {
	logging.NullTracer
}

// TracerForConnection implements logging.Tracer.
func (Tracer) TracerForConnection(context.Context, logging.Perspective, logging.ConnectionID) logging.ConnectionTracer {
	return &connectionTracer{}
}

type connectionTracer struct {
	logging.NullConnectionTracer
	mu     sync.Mutex
	local  int
	remote int
	once   sync.Once
}

func (t *connectionTracer) UpdatedKey(_ logging.KeyPhase, remote bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if remote {
		t.remote++
	} else {
		t.local++
	}
}

func (t *connectionTracer) ClosedConnection(error) { t.report() }

func (t *connectionTracer) Close() { t.report() }

func (t *connectionTracer) report() {
	t.once.Do(func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		fmt.Printf("key updates: local=%d remote=%d\n", t.local, t.remote)
	})
}
