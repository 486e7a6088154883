// A client nobody here wrote: containerd's ttrpc (Debian
// golang-github-containerd-ttrpc-dev) calling the service with messages
// generated from Protos/ by protoc-gen-gofast. Built offline in GOPATH mode by
// the interop test; prints one line per check for the test to assert on.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/status"

	healthv1 "marketplace/health/v1"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: ttrpc-health-client SOCKET")
		os.Exit(2)
	}
	conn, err := net.Dial("unix", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		os.Exit(1)
	}
	client := ttrpc.NewClient(conn)
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	var resp healthv1.CheckResponse
	err = client.Call(ctx, "marketplace.health.v1.Health", "Check", &healthv1.CheckRequest{}, &resp)
	fmt.Printf("check code=%d status=%s version=%s\n", status.Code(err), resp.Status, resp.Version)

	err = client.Call(ctx, "marketplace.health.v1.Health", "NoSuchMethod", &healthv1.CheckRequest{}, &resp)
	fmt.Printf("unknown-method code=%d message=%q\n", status.Code(err), status.Convert(err).Message())

	err = client.Call(ctx, "no.such.Service", "Check", &healthv1.CheckRequest{}, &resp)
	fmt.Printf("unknown-service code=%d\n", status.Code(err))

	// Many calls in flight on the one connection.
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r healthv1.CheckResponse
			if err := client.Call(ctx, "marketplace.health.v1.Health", "Check", &healthv1.CheckRequest{}, &r); err == nil && r.Status == healthv1.ServingStatus_SERVING {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Printf("concurrent ok=%d\n", ok)
}
