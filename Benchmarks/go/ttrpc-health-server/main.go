// The reference: a minimal server on containerd's Go ttrpc (Debian
// golang-github-containerd-ttrpc-dev) answering marketplace.health.v1.Health/Check
// like ours (SERVING, version 0.1.0). Built offline in GOPATH mode by Scripts/bench.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/containerd/ttrpc"

	healthv1 "marketplace/health/v1"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: ttrpc-health-server SOCKET")
		os.Exit(2)
	}
	os.Remove(os.Args[1])
	listener, err := net.Listen("unix", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	server, err := ttrpc.NewServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
	server.Register("marketplace.health.v1.Health", map[string]ttrpc.Method{
		"Check": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			var req healthv1.CheckRequest
			if err := unmarshal(&req); err != nil {
				return nil, err
			}
			return &healthv1.CheckResponse{Status: healthv1.ServingStatus_SERVING, Version: "0.1.0"}, nil
		},
	})
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-signals
		server.Close()
		os.Remove(os.Args[1])
		os.Exit(0)
	}()
	fmt.Println("ready")
	if err := server.Serve(context.Background(), listener); err != nil && err != ttrpc.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}
