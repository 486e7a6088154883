// Load from a client nobody here wrote: containerd's Go ttrpc client (Debian
// golang-github-containerd-ttrpc-dev) calling marketplace.health.v1.Health/Check
// with messages generated from Protos/ by protoc-gen-gofast. Built offline in
// GOPATH mode by Scripts/bench. Prints one JSON line like marketplace-bench load.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/containerd/ttrpc"

	healthv1 "marketplace/health/v1"
)

func main() {
	socket := flag.String("socket", "", "Unix socket path")
	callers := flag.Int("callers", 1, "concurrent callers")
	conns := flag.Int("connections", 1, "connections (callers are spread over them)")
	seconds := flag.Float64("seconds", 2, "measured seconds")
	warmup := flag.Float64("warmup", 0.3, "unmeasured seconds first")
	flag.Parse()

	clients := make([]*ttrpc.Client, *conns)
	for i := range clients {
		conn, err := net.Dial("unix", *socket)
		if err != nil {
			fmt.Fprintln(os.Stderr, "dial:", err)
			os.Exit(1)
		}
		clients[i] = ttrpc.NewClient(conn)
		defer clients[i].Close()
	}
	var stop, measuring atomic.Bool
	var wg sync.WaitGroup
	samples := make([][]int64, *callers)
	errs := make([]int, *callers)
	lastErr := make([]string, *callers)
	for i := 0; i < *callers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			client := clients[i%len(clients)]
			local := make([]int64, 0, 1<<16)
			for !stop.Load() {
				var resp healthv1.CheckResponse
				t0 := time.Now()
				err := client.Call(context.Background(), "marketplace.health.v1.Health", "Check", &healthv1.CheckRequest{}, &resp)
				d := time.Since(t0)
				if !measuring.Load() {
					continue
				}
				if err != nil || resp.Status != healthv1.ServingStatus_SERVING {
					errs[i]++
					if err != nil {
						lastErr[i] = err.Error()
					}
					continue
				}
				local = append(local, d.Nanoseconds())
			}
			samples[i] = local
		}(i)
	}
	time.Sleep(time.Duration(*warmup * float64(time.Second)))
	fmt.Fprintln(os.Stderr, "MEASURE-START")
	start := time.Now()
	measuring.Store(true)
	time.Sleep(time.Duration(*seconds * float64(time.Second)))
	measuring.Store(false)
	elapsed := time.Since(start).Seconds()
	fmt.Fprintln(os.Stderr, "MEASURE-END")
	stop.Store(true)
	wg.Wait()

	var all []int64
	nerr := 0
	last := ""
	for i := range samples {
		all = append(all, samples[i]...)
		nerr += errs[i]
		if lastErr[i] != "" {
			last = lastErr[i]
		}
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		idx := int(float64(len(all))*p+0.999999) - 1
		if idx < 0 {
			idx = 0
		}
		if idx >= len(all) {
			idx = len(all) - 1
		}
		return float64(all[idx]) / 1000
	}
	out, _ := json.Marshal(map[string]interface{}{
		"scenario": "health-go", "callers": *callers, "connections": *conns, "calls": len(all), "errors": nerr,
		"seconds": elapsed, "rate": float64(len(all)) / elapsed, "p50_us": pct(0.5), "p99_us": pct(0.99),
		"p999_us": pct(0.999), "last_error": last,
	})
	fmt.Println(string(out))
}
