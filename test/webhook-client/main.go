// Command webhook-client calls a webhook the way the API server does (Go's net/http over TLS,
// HTTP/1.1 only, as for service-backed webhooks: kubernetes#82090), for the bench.
//
//	webhook-client first-request --url https://127.0.0.1:PORT/inject --body review.json --ca ca.pem --n 30
//
// alternates a POST on a fresh connection (no keep-alive, no TLS session cache: client-go's
// webhook transport keeps none, so every new connection is a full handshake) with a POST on a
// kept-alive one, and prints one JSON object of medians in milliseconds: connect, TLS handshake,
// the first request after the handshake, the whole fresh request, and the kept-alive request.
// It talks to loopback only and stops after --n rounds or --deadline, whichever comes first.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"sort"
	"time"
)

type sample struct {
	connect, handshake, total time.Duration
	group                     string
}

func main() {
	if len(os.Args) < 2 || os.Args[1] != "first-request" {
		fmt.Fprintln(os.Stderr, "usage: webhook-client first-request --url URL --body FILE [--ca FILE] [--n 30] [--deadline 60s]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("first-request", flag.ExitOnError)
	target := fs.String("url", "", "webhook URL on 127.0.0.1")
	bodyFile := fs.String("body", "", "AdmissionReview JSON to POST")
	caFile := fs.String("ca", "", "CA bundle to verify the server with (as the webhook's caBundle); none skips verification")
	n := fs.Int("n", 30, "rounds (one fresh and one kept-alive request each)")
	deadline := fs.Duration("deadline", time.Minute, "stop after this long whatever the rounds")
	_ = fs.Parse(os.Args[2:])
	if err := run(*target, *bodyFile, *caFile, *n, *deadline); err != nil {
		fmt.Fprintln(os.Stderr, "webhook-client:", err)
		os.Exit(1)
	}
}

func run(target, bodyFile, caFile string, n int, deadline time.Duration) error {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "https" {
		return fmt.Errorf("--url %q: want an https URL", target)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--url %q: loopback addresses only", target)
	}
	if n < 1 {
		return fmt.Errorf("--n %d: want at least 1", n)
	}
	body, err := os.ReadFile(bodyFile)
	if err != nil {
		return err
	}
	tlsConfig := &tls.Config{NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12}
	if caFile == "" {
		tlsConfig.InsecureSkipVerify = true
	} else {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("--ca %s: no certificate", caFile)
		}
		tlsConfig.RootCAs = pool
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	transport := func(keepAlive bool) *http.Transport {
		return &http.Transport{
			TLSClientConfig:   tlsConfig.Clone(),
			DisableKeepAlives: !keepAlive,
			// A non-nil empty map: HTTP/1.1 only, whatever ALPN would offer.
			TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
		}
	}
	kept := &http.Client{Transport: transport(true), Timeout: 10 * time.Second}
	if _, err := post(ctx, kept, target, body); err != nil {
		return err
	}
	var fresh, steady []sample
	for i := 0; i < n; i++ {
		client := &http.Client{Transport: transport(false), Timeout: 10 * time.Second}
		s, err := post(ctx, client, target, body)
		if err != nil {
			return err
		}
		fresh = append(fresh, s)
		if s, err = post(ctx, kept, target, body); err != nil {
			return err
		}
		steady = append(steady, s)
	}
	median := func(samples []sample, f func(sample) time.Duration) float64 {
		d := make([]time.Duration, len(samples))
		for i, s := range samples {
			d[i] = f(s)
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return float64(d[len(d)/2]) / float64(time.Millisecond)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"rounds":         n,
		"group":          fresh[0].group,
		"connect":        median(fresh, func(s sample) time.Duration { return s.connect }),
		"handshake":      median(fresh, func(s sample) time.Duration { return s.handshake - s.connect }),
		"afterHandshake": median(fresh, func(s sample) time.Duration { return s.total - s.handshake }),
		"first":          median(fresh, func(s sample) time.Duration { return s.total }),
		"steady":         median(steady, func(s sample) time.Duration { return s.total }),
	})
}

// post sends one review and reads the whole answer; a non-200 is an error.
func post(ctx context.Context, client *http.Client, target string, body []byte) (sample, error) {
	var s sample
	start := time.Now()
	trace := &httptrace.ClientTrace{
		ConnectDone: func(string, string, error) { s.connect = time.Since(start) },
		TLSHandshakeDone: func(state tls.ConnectionState, _ error) {
			s.handshake = time.Since(start)
			s.group = state.CurveID.String()
		},
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return s, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return s, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	s.total = time.Since(start)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = errors.New(resp.Status)
	}
	return s, err
}
