// Load from a client nobody here wrote: containerd's Go ttrpc client (Debian
// golang-github-containerd-ttrpc-dev) calling marketplace.health.v1.Health/Check
// with messages generated from Protos/ by protoc-gen-gofast, or (-method check)
// marketplace.users.v1.Access/CheckAccess with random tokens from -sessions,
// its small request encoded by hand (checkRequest below), or (-method getuser)
// marketplace.users.v1.AccountUsers/GetAccountUser of a random one of the
// -users seeded memberships (same ids as marketplace-bench seed), also encoded
// by hand. Built offline in
// GOPATH mode by Scripts/bench. Prints one JSON line like marketplace-bench load.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"net"
	"os"
	"sort"
	"strings"
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
	method := flag.String("method", "health", "health, check or getuser")
	users := flag.Int("users", 1000000, "for -method getuser: seeded memberships AUSR-0000-0000-0001..")
	sessionsFile := flag.String("sessions", "", "for -method check: session tokens, one a line")
	flag.Parse()
	var tokens []string
	if *method == "check" {
		data, err := os.ReadFile(*sessionsFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sessions:", err)
			os.Exit(1)
		}
		tokens = strings.Fields(string(data))
	}

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
			rng := rand.New(rand.NewSource(int64(i)*7919 + time.Now().UnixNano()))
			for !stop.Load() {
				var resp healthv1.CheckResponse
				var checked checkResponse
				var err error
				t0 := time.Now()
				if *method == "check" {
					req := &checkRequest{token: tokens[rng.Intn(len(tokens))], permission: "catalog.view"}
					err = client.Call(context.Background(), "marketplace.users.v1.Access", "CheckAccess", req, &checked)
				} else if *method == "getuser" {
					n := 1 + rng.Intn(*users)
					req := &getUserRequest{id: fmt.Sprintf("AUSR-0000-%04d-%04d", n/10000, n%10000)}
					err = client.Call(context.Background(), "marketplace.users.v1.AccountUsers", "GetAccountUser", req, &checked)
				} else {
					err = client.Call(context.Background(), "marketplace.health.v1.Health", "Check", &healthv1.CheckRequest{}, &resp)
				}
				d := time.Since(t0)
				if !measuring.Load() {
					continue
				}
				if err != nil || (*method != "health" && len(checked.raw) == 0) || (*method == "health" && resp.Status != healthv1.ServingStatus_SERVING) {
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
		"scenario": *method + "-go", "callers": *callers, "connections": *conns, "calls": len(all), "errors": nerr,
		"seconds": elapsed, "rate": float64(len(all)) / elapsed, "p50_us": pct(0.5), "p99_us": pct(0.99),
		"p999_us": pct(0.999), "last_error": last,
	})
	fmt.Println(string(out))
}

// checkRequest is marketplace.users.v1.CheckAccessRequest{token, permissions:
// [permission]}, encoded by hand (gogo's proto.Marshal uses Marshal()).
type checkRequest struct {
	token, permission string
}

func (m *checkRequest) Reset()         {}
func (m *checkRequest) String() string { return m.token }
func (m *checkRequest) ProtoMessage()  {}
func (m *checkRequest) Marshal() ([]byte, error) {
	b := make([]byte, 0, 8+len(m.token)+len(m.permission))
	b = appendField(b, 0x0a, m.token)
	b = appendField(b, 0x1a, m.permission)
	return b, nil
}

func appendField(b []byte, tag byte, s string) []byte {
	b = append(b, tag)
	n := uint64(len(s))
	for n >= 0x80 {
		b = append(b, byte(n)|0x80)
		n >>= 7
	}
	b = append(b, byte(n))
	return append(b, s...)
}

// getUserRequest is marketplace.users.v1.GetAccountUserRequest{account_user_id}.
type getUserRequest struct {
	id string
}

func (m *getUserRequest) Reset()         {}
func (m *getUserRequest) String() string { return m.id }
func (m *getUserRequest) ProtoMessage()  {}
func (m *getUserRequest) Marshal() ([]byte, error) {
	return appendField(make([]byte, 0, 4+len(m.id)), 0x0a, m.id), nil
}

// checkResponse keeps the CheckAccessResponse (or GetAccountUserResponse)
// bytes; a non-empty answer names at least the user (or the membership).
type checkResponse struct {
	raw []byte
}

func (m *checkResponse) Reset()         { m.raw = nil }
func (m *checkResponse) String() string { return "" }
func (m *checkResponse) ProtoMessage()  {}
func (m *checkResponse) Unmarshal(b []byte) error {
	m.raw = append(m.raw[:0], b...)
	return nil
}
