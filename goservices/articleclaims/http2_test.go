package articleclaims

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// protoHandler answers with the protocol the request arrived in.
var protoHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, r.Proto)
})

func getProto(t *testing.T, client *http.Client, url string) (respProto, reqProto string, err error) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.Proto, string(b), err
}

// The article (chapter 1) "disables HTTP/2 to avoid gateway incompatibility"
// with TLSConfig.NextProtos ["http/1.1"]. NextProtos is TLS's ALPN list: it
// is read only when Go itself terminates TLS. Behind a TLS-terminating gateway
// the service serves plain HTTP, where every request is HTTP/1.x whatever
// NextProtos says - even ["h2", "http/1.1"] - and an h2c (prior knowledge)
// client is refused. The TLS half is the control: there NextProtos decides.
func TestNextProtosDoesNothingForPlainHTTP(t *testing.T) {
	for _, np := range [][]string{{"http/1.1"}, {"h2", "http/1.1"}} {
		t.Run(strings.Join(np, ","), func(t *testing.T) {
			addr := serve(t, &http.Server{Handler: protoHandler, TLSConfig: &tls.Config{NextProtos: np}})

			// A Go client, as a Go gateway would be.
			client := &http.Client{}
			defer client.CloseIdleConnections()
			resp, req, err := getProto(t, client, "http://"+addr+"/")
			if err != nil || resp != "HTTP/1.1" || req != "HTTP/1.1" {
				t.Errorf("plain Go client: response %q, request seen as %q, err %v; want HTTP/1.1", resp, req, err)
			}

			// What nginx sends upstream by default: proxy_http_version 1.0.
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(2 * time.Second))
			io.WriteString(conn, "GET / HTTP/1.0\r\nHost: app\r\nConnection: close\r\n\r\n")
			r, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(r.Body)
			r.Body.Close()
			if r.StatusCode != http.StatusOK || string(b) != "HTTP/1.0" || r.ProtoMajor != 1 {
				t.Errorf("nginx-like HTTP/1.0 request: %s, request seen as %q; want 200 over HTTP/1.x", r.Status, b)
			}

			// An h2c client with prior knowledge gets no HTTP/2 either.
			h2c := &http.Transport{Protocols: new(http.Protocols)}
			h2c.Protocols.SetUnencryptedHTTP2(true)
			defer h2c.CloseIdleConnections()
			if resp, _, err := getProto(t, &http.Client{Transport: h2c}, "http://"+addr+"/"); err == nil && resp == "HTTP/2.0" {
				t.Errorf("h2c prior knowledge: answered over %s", resp)
			} else {
				t.Logf("h2c prior knowledge: resp %q err %v", resp, err)
			}

			// Control: the same NextProtos where Go terminates TLS.
			ts := httptest.NewUnstartedServer(protoHandler)
			ts.EnableHTTP2 = true
			ts.TLS = &tls.Config{NextProtos: np}
			ts.StartTLS()
			defer ts.Close()
			resp, _, err = getProto(t, ts.Client(), ts.URL)
			want := "HTTP/1.1"
			if np[0] == "h2" {
				want = "HTTP/2.0"
			}
			if err != nil || resp != want {
				t.Errorf("TLS with NextProtos %v: %q %v, want %s", np, resp, err, want)
			}
		})
	}
}
