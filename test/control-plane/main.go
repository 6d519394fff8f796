// Command kcp is a test-only Kubernetes control plane in one binary: an embedded etcd,
// kube-apiserver, kube-controller-manager and kubectl, all built from the pinned k8s.io/kubernetes
// module. One binary instead of four saves three multi-minute links on a cold build.
//
// Roles, chosen by the first argument or by the name the binary is called under (a `kubectl`
// symlink works):
//
//	kcp up --dir DIR [--start-timeout 180s] [--max-lifetime 45m]
//	kcp kube-apiserver FLAGS...           (run by `up`)
//	kcp kube-controller-manager FLAGS...  (run by `up`)
//	kcp kubectl ARGS...
//
// `up` generates certificates, starts etcd in-process and the two servers as children on
// 127.0.0.1, waits until they are healthy, writes DIR/cluster.json and prints "READY DIR/cluster.json".
// It stops everything when its standard input closes, on SIGTERM/SIGINT, or after --max-lifetime;
// the children also get SIGKILL from the kernel if `up` itself dies (Pdeathsig).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "time/tzdata" // CronJob time zones, as in the upstream mains

	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserverapp "k8s.io/kubernetes/cmd/kube-apiserver/app"
	kcmapp "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	role := filepath.Base(os.Args[0])
	args := os.Args[1:]
	if role != "kubectl" && role != "kube-apiserver" && role != "kube-controller-manager" {
		if len(args) == 0 {
			fmt.Fprintln(os.Stderr, "usage: kcp up|kube-apiserver|kube-controller-manager|kubectl ...")
			os.Exit(2)
		}
		role, args = args[0], args[1:]
	}
	// The upstream commands read os.Args themselves (kubectl's plugin handling does), so present
	// them as if the role were the program.
	os.Args = append([]string{role}, args...)
	switch role {
	case "up":
		os.Exit(up(args))
	case "kube-apiserver":
		cmd := apiserverapp.NewAPIServerCommand()
		cmd.SetArgs(args)
		os.Exit(cli.Run(cmd))
	case "kube-controller-manager":
		cmd := kcmapp.NewControllerManagerCommand()
		cmd.SetArgs(args)
		os.Exit(cli.Run(cmd))
	case "kubectl":
		logs.GlogSetter(kubectlcmd.GetLogVerbosity(os.Args)) //nolint:errcheck
		cmd := kubectlcmd.NewDefaultKubectlCommand()
		if err := cli.RunNoErrOutput(cmd); err != nil {
			kubectlutil.CheckErr(err)
		}
	default:
		fmt.Fprintf(os.Stderr, "unknown role %q (want one of: %s)\n", role,
			strings.Join([]string{"up", "kube-apiserver", "kube-controller-manager", "kubectl"}, ", "))
		os.Exit(2)
	}
}
