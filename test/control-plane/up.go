package main

import (
	"bufio"
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
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// Cluster is what `up` writes to DIR/cluster.json for the test suite.
type Cluster struct {
	Server          string `json:"server"`
	Kubeconfig      string `json:"kubeconfig"`
	CAFile          string `json:"caFile"`
	WebhookCertFile string `json:"webhookCertFile"`
	WebhookKeyFile  string `json:"webhookKeyFile"`
	AuditLog        string `json:"auditLog"`
	APIServerLog    string `json:"apiServerLog"`
	ControllerLog   string `json:"controllerManagerLog"`
	Etcd            string `json:"etcd"`
	PID             int    `json:"pid"`
}

// kube-apiserver enables its default admission plugins (MutatingAdmissionWebhook,
// ValidatingAdmissionWebhook, ServiceAccount, PodSecurity, LimitRanger, ResourceQuota, ...);
// like kubeadm we add NodeRestriction on top, so the chain is the one a kubeadm cluster runs.
// https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#which-plugins-are-enabled-by-default
const admissionPlugins = "NodeRestriction"

// auditPolicy records pod and workload writes with request and response bodies: the audit event
// carries the patch each mutating webhook returned (annotation patch.webhook.admission.k8s.io/...),
// which is how the suite sees what the API server received from the webhook.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: RequestResponse
  verbs: ["create", "update", "patch"]
  resources:
  - group: ""
    resources: ["pods", "pods/ephemeralcontainers"]
- level: None
`

func up(args []string) int {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	dir := fs.String("dir", "", "working directory (certificates, etcd data, logs); created if missing")
	startTimeout := fs.Duration("start-timeout", 180*time.Second, "give up if not healthy by then")
	maxLifetime := fs.Duration("max-lifetime", 45*time.Minute, "stop by itself after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "up: --dir is required")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *maxLifetime)
	defer cancel()
	ctx, stopSignals := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer stopSignals()
	// The parent (the test run) holds our stdin; when it goes away, so do we.
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	if err := run(ctx, *dir, *startTimeout); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintln(os.Stderr, "up:", err)
		return 1
	}
	return 0
}

func run(ctx context.Context, dir string, startTimeout time.Duration) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	pki, err := writePKI(filepath.Join(dir, "pki"))
	if err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	ports, err := freePorts(4)
	if err != nil {
		return err
	}
	etcdPort, etcdPeerPort, apiPort, kcmPort := ports[0], ports[1], ports[2], ports[3]

	etcdURL, err := startEtcd(ctx, filepath.Join(dir, "etcd"), etcdPort, etcdPeerPort, startTimeout)
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	server := "https://127.0.0.1:" + strconv.Itoa(apiPort)
	adminKubeconfig := filepath.Join(dir, "admin.kubeconfig")
	kcmKubeconfig := filepath.Join(dir, "controller-manager.kubeconfig")
	if err := writeKubeconfig(adminKubeconfig, server, pki, "admin"); err != nil {
		return err
	}
	if err := writeKubeconfig(kcmKubeconfig, server, pki, "controller-manager"); err != nil {
		return err
	}
	auditPolicyFile := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(auditPolicyFile, []byte(auditPolicy), 0o600); err != nil {
		return err
	}
	auditLog := filepath.Join(dir, "audit.log")

	self, err := os.Executable()
	if err != nil {
		return err
	}
	apiLog := filepath.Join(dir, "kube-apiserver.log")
	api, err := startChild(self, apiLog, "kube-apiserver",
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(apiPort),
		"--etcd-servers="+etcdURL,
		"--tls-cert-file="+pki.file("apiserver.crt"),
		"--tls-private-key-file="+pki.file("apiserver.key"),
		"--client-ca-file="+pki.file("ca.crt"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+pki.file("sa.pub"),
		"--service-account-signing-key-file="+pki.file("sa.key"),
		// An allocation range for Service objects only; nothing is ever routed to it.
		"--service-cluster-ip-range=10.96.0.0/16",
		// No kubelet/kube-proxy here: no endpoints for the kubernetes Service are needed, and a
		// loopback address would be refused in an Endpoints object anyway.
		"--endpoint-reconciler-type=none",
		"--authorization-mode=Node,RBAC",
		"--enable-admission-plugins="+admissionPlugins,
		"--allow-privileged=true",
		"--audit-policy-file="+auditPolicyFile,
		"--audit-log-path="+auditLog,
		"--audit-log-format=json",
		"--audit-log-mode=blocking",
		"--profiling=false",
		"--cert-dir="+filepath.Join(dir, "apiserver-certs"),
		"--v=1",
	)
	if err != nil {
		return err
	}
	defer stopChild(api)

	caPool := x509.NewCertPool()
	caPool.AppendCertsFromPEM(pki.caPEM)
	admin, err := tls.LoadX509KeyPair(pki.file("admin.crt"), pki.file("admin.key"))
	if err != nil {
		return err
	}
	apiClient := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: caPool, Certificates: []tls.Certificate{admin}, MinVersion: tls.VersionTLS12},
	}}
	deadline := time.Now().Add(startTimeout)
	if err := waitHealthy(ctx, apiClient, server+"/readyz", deadline, api); err != nil {
		return fmt.Errorf("kube-apiserver not ready (log: %s): %w", apiLog, err)
	}

	kcmLog := filepath.Join(dir, "kube-controller-manager.log")
	kcm, err := startChild(self, kcmLog, "kube-controller-manager",
		"--kubeconfig="+kcmKubeconfig,
		"--authentication-kubeconfig="+kcmKubeconfig,
		"--authorization-kubeconfig="+kcmKubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(kcmPort),
		"--cert-dir="+filepath.Join(dir, "kcm-certs"),
		"--leader-elect=false",
		"--use-service-account-credentials=true",
		"--service-account-private-key-file="+pki.file("sa.key"),
		"--root-ca-file="+pki.file("ca.crt"),
		"--cluster-signing-cert-file="+pki.file("ca.crt"),
		"--cluster-signing-key-file="+pki.file("ca.key"),
		// No kubelets report here: node lifecycle would only taint the one fake Node.
		"--controllers=*,-node-lifecycle-controller",
		"--profiling=false",
		"--v=1",
	)
	if err != nil {
		return err
	}
	defer stopChild(kcm)
	// The controller-manager serves with a self-signed certificate of its own; only liveness is
	// read from it.
	kcmClient := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback health probe only
	}}
	if err := waitHealthy(ctx, kcmClient, "https://127.0.0.1:"+strconv.Itoa(kcmPort)+"/healthz", deadline, kcm); err != nil {
		return fmt.Errorf("kube-controller-manager not healthy (log: %s): %w", kcmLog, err)
	}

	info := Cluster{
		Server: server, Kubeconfig: adminKubeconfig, CAFile: pki.file("ca.crt"),
		WebhookCertFile: pki.file("webhook.crt"), WebhookKeyFile: pki.file("webhook.key"),
		AuditLog: auditLog, APIServerLog: apiLog, ControllerLog: kcmLog, Etcd: etcdURL, PID: os.Getpid(),
	}
	out, _ := json.MarshalIndent(info, "", "  ")
	infoFile := filepath.Join(dir, "cluster.json")
	if err := os.WriteFile(infoFile, out, 0o600); err != nil {
		return err
	}
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(w, "READY", infoFile)
	_ = w.Flush()

	select {
	case <-ctx.Done():
		return nil
	case <-api.done:
		return fmt.Errorf("kube-apiserver exited (log: %s)", apiLog)
	case <-kcm.done:
		return fmt.Errorf("kube-controller-manager exited (log: %s)", kcmLog)
	}
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func startEtcd(ctx context.Context, dataDir string, port, peerPort int, timeout time.Duration) (string, error) {
	cfg := embed.NewConfig()
	cfg.Name = "kcp"
	cfg.Dir = dataDir
	cfg.LogLevel = "error"
	client := url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(port)}
	peer := url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(peerPort)}
	cfg.ListenClientUrls = []url.URL{client}
	cfg.AdvertiseClientUrls = []url.URL{client}
	cfg.ListenPeerUrls = []url.URL{peer}
	cfg.AdvertisePeerUrls = []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return "", err
	}
	go func() {
		<-ctx.Done()
		e.Close()
	}()
	select {
	case <-e.Server.ReadyNotify():
		return client.String(), nil
	case <-time.After(timeout):
		e.Close()
		return "", errors.New("not ready in time")
	case err := <-e.Err():
		return "", err
	}
}

type child struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startChild(self, logFile, role string, args ...string) (*child, error) {
	log, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, append([]string{role}, args...)...)
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.Env = os.Environ()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("%s: %w", role, err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = log.Close()
		close(c.done)
	}()
	return c, nil
}

func stopChild(c *child) {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

func waitHealthy(ctx context.Context, client *http.Client, u string, deadline time.Time, c *child) error {
	var last error
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s: %d %s", u, resp.StatusCode, body)
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return errors.New("process exited")
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("timed out: %v", last)
}
