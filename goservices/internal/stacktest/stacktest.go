// Package stacktest reads this process's goroutine profile in the debug=1
// text the harness diffs, so tests check the same stacks a report shows.
package stacktest

import (
	"bytes"
	"runtime/pprof"
	"strconv"
	"strings"
)

// Count sums the goroutines of every profile block whose innermost shown
// frame contains top and whose text contains all of more, and returns one
// such block for error messages. debug=1 hides leading runtime frames, so a
// goroutine parked in `ch <- v` has the sending function as its top frame.
func Count(top string, more ...string) (n int, block string) {
	var buf bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&buf, 1)
	for _, b := range strings.Split(buf.String(), "\n\n") {
		if strings.HasPrefix(b, "goroutine profile:") {
			_, b, _ = strings.Cut(b, "\n") // header line above the first block
		}
		_, frames, _ := strings.Cut(b, "\n")
		first, _, _ := strings.Cut(frames, "\n")
		if !strings.Contains(first, top) || !containsAll(b, more) {
			continue
		}
		// A block starts "N @ 0x...": N goroutines share this stack.
		head, _, _ := strings.Cut(b, " @ ")
		c, err := strconv.Atoi(head)
		if err != nil {
			continue
		}
		n += c
		block = b
	}
	return n, block
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
