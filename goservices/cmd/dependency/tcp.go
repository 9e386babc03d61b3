package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
)

// serveTCP answers a line protocol for patterns that call the dependency over
// raw TCP: "GET <anything>\n" -> "OK <n>\n", many lines per connection; any
// other line -> "ERR\n" and close. It returns once ctx is done and every
// connection has been closed.
func serveTCP(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var n atomic.Int64
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		wg.Go(func() { handleLines(ctx, c, &n) })
	}
}

func handleLines(ctx context.Context, c net.Conn, n *atomic.Int64) {
	defer c.Close()
	// Shutdown closes idle keep-alive connections, which would otherwise
	// block in Read until the client hangs up.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	r := bufio.NewReaderSize(c, 4096) // a longer line is malformed (ErrBufferFull)
	for {
		line, err := r.ReadSlice('\n')
		if err == nil && bytes.HasPrefix(line, []byte("GET ")) {
			if _, err := fmt.Fprintf(c, "OK %d\n", n.Add(1)); err != nil {
				return
			}
			continue
		}
		if len(line) > 0 { // a malformed line, not a hang-up
			c.Write([]byte("ERR\n"))
		}
		return
	}
}
