// Package sdk stands in for a third-party client library: NewClient is cheap,
// so callers make one per request, and Subscribe quietly starts a goroutine
// that only Close (or SubscribeContext's ctx) ever stops; Watch starts one
// that not even Close stops.
package sdk

import (
	"context"
	"net/http"
	"sync"
)

// Event is a server-pushed notification. This fake never receives any: a
// quiet topic is exactly when a forgotten subscription goes unnoticed.
type Event struct {
	Topic, Data string
}

// Client talks to one service.
type Client struct {
	base      string
	http      *http.Client
	events    chan Event // closed by Close
	closeOnce sync.Once
}

// NewClient returns a client for baseURL that sends through hc.
func NewClient(baseURL string, hc *http.Client) *Client {
	return &Client{base: baseURL, http: hc, events: make(chan Event, 16)}
}

// Get sends GET base+path; the caller drains and closes the body.
func (c *Client) Get(path string) (*http.Response, error) {
	return c.http.Get(c.base + path)
}

// Subscribe calls cb for each event on topic, from a goroutine that runs
// until Close.
func (c *Client) Subscribe(topic string, cb func(Event)) {
	go func() {
		for ev := range c.events { // parks here until Close
			if ev.Topic == topic {
				cb(ev)
			}
		}
	}()
}

// SubscribeContext is Subscribe whose goroutine also ends when ctx is done.
func (c *Client) SubscribeContext(ctx context.Context, topic string, cb func(Event)) {
	go func() {
		for {
			select {
			case ev, ok := <-c.events:
				if !ok {
					return
				}
				if ev.Topic == topic {
					cb(ev)
				}
			case <-ctx.Done():
				return
			}
		}
	}()
}

// Subscription is one Watch; only Unsubscribe ends it.
type Subscription struct {
	feed chan Event // the topic's own feed; this fake never sends on it
	stop chan struct{}
	once sync.Once
}

// Watch calls cb for each event on topic, from a goroutine that runs until
// the returned Subscription is unsubscribed. Close does NOT end it: the
// article's SDK, whose Close released connections but left the watcher
// goroutine running.
func (c *Client) Watch(topic string, cb func(Event)) *Subscription {
	s := &Subscription{feed: make(chan Event), stop: make(chan struct{})}
	go func() {
		for {
			select {
			case ev := <-s.feed: // parks here until Unsubscribe
				if ev.Topic == topic {
					cb(ev)
				}
			case <-s.stop:
				return
			}
		}
	}()
	return s
}

// Unsubscribe ends the watch. It is safe to call more than once.
func (s *Subscription) Unsubscribe() {
	s.once.Do(func() { close(s.stop) })
}

// Close ends every Subscribe of c (not its Watches). It is safe to call more than once.
func (c *Client) Close() error {
	c.closeOnce.Do(func() { close(c.events) })
	return nil
}
