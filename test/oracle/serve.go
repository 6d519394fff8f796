package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// serve runs Istio's webhook handler (NewWebhook on the given ConfigMap texts) over TLS on
// 127.0.0.1, as istiod serves /inject on its webhook port (HTTP/1.1 and HTTP/2 by ALPN). It stops
// by itself after --max-requests requests or --max-seconds, whichever comes first.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	dir := fs.String("config-dir", "", "directory with the config, values and mesh texts")
	cert := fs.String("cert", "", "PEM certificate")
	key := fs.String("key", "", "PEM private key")
	port := fs.Int("port", 0, "port on 127.0.0.1 (0: any free port)")
	native := fs.Bool("native-sidecars", false, "ENABLE_NATIVE_SIDECARS=true")
	maxRequests := fs.Int64("max-requests", 2_000_000, "stop after this many requests")
	maxSeconds := fs.Int("max-seconds", 600, "stop after this many seconds")
	if err := fs.Parse(args); err != nil {
		return err
	}
	read := func(name string) (string, error) {
		b, err := os.ReadFile(filepath.Join(*dir, name))
		return string(b), err
	}
	c := &ocase{Mode: "webhook", NativeSidecars: *native}
	var err error
	if c.Config, err = read("config"); err != nil {
		return err
	}
	if c.Values, err = read("values"); err != nil {
		return err
	}
	if c.Mesh, err = read("mesh"); err != nil {
		return err
	}
	setGlobals(c)
	o := newOracle()
	p, _, err := o.parse(c)
	if err != nil {
		return err
	}
	wh, err := newWebhook(p, p.valuesText, "default", "", nil)
	if err != nil {
		return err
	}
	pair, err := tls.LoadX509KeyPair(*cert, *key)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		return err
	}
	var served atomic.Int64
	done := make(chan struct{})
	var closing atomic.Bool
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wh.mux.ServeHTTP(w, r)
		if served.Add(1) >= *maxRequests && closing.CompareAndSwap(false, true) {
			close(done)
		}
	})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}},
	}
	fmt.Printf("listening on %s\n", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	select {
	case <-done:
	case <-time.After(time.Duration(*maxSeconds) * time.Second):
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	close(wh.stop)
	return nil
}
