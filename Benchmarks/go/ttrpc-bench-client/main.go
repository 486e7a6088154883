// Load from a client nobody here wrote: containerd's Go ttrpc client (Debian
// golang-github-containerd-ttrpc-dev) calling marketplace.health.v1.Health/Check
// with messages generated from Protos/ by protoc-gen-gofast, or (-method check)
// marketplace.users.v1.Access/CheckAccess with random tokens from -sessions,
// its small request encoded by hand (checkRequest below), or (-method getuser)
// marketplace.users.v1.AccountUsers/GetAccountUser of a random one of the
// -users seeded memberships (same ids as marketplace-bench seed), also encoded
// by hand, or (-method list) a page of 50 active members of the 100,000-member
// account matching a text, or (-method invite) a durable invite of a new
// email into one of the -accounts seeded accounts, both as marketplace-bench
// load does them, encoded by hand too. Built offline in
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
	method := flag.String("method", "health", "health, check, getuser, list or invite")
	users := flag.Int("users", 1000000, "for -method getuser: seeded memberships AUSR-0000-0000-0001..")
	accounts := flag.Int("accounts", 1000, "for -method invite: seeded accounts ACC-0000-0001..")
	sessionsFile := flag.String("sessions", "", "for -method check: session tokens, one a line")
	texts := flag.String("texts", "mar,ada,kow,ri,sil", "for -method list: the texts searched, comma-separated (one at random per call)")
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
	// Invited emails are new in every run (the seed is reused).
	unique := fmt.Sprintf("gobench%dx%d", os.Getpid(), time.Now().UnixNano())
	listTexts := strings.Split(*texts, ",")
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
			sequence := 0
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
				} else if *method == "list" {
					req := &listRequest{query: listTexts[rng.Intn(len(listTexts))]}
					err = client.Call(context.Background(), "marketplace.users.v1.AccountUsers", "ListAccountUsers", req, &checked)
				} else if *method == "invite" {
					account := 2 + rng.Intn(*accounts-1)
					sequence++
					req := &inviteRequest{
						account: fmt.Sprintf("ACC-%04d-%04d", account/10000, account%10000),
						group:   fmt.Sprintf("UGR-%04d-%04d", account/10000, account%10000),
						email:   fmt.Sprintf("%sc%dn%d@example.com", unique, i, sequence),
					}
					err = client.Call(context.Background(), "marketplace.users.v1.AccountUsers", "InviteUser", req, &checked)
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

// listRequest is marketplace.users.v1.ListAccountUsersRequest{account_id:
// the 100,000-member account, statuses: [ACTIVE], query, page_size: 50}.
type listRequest struct {
	query string
}

func (m *listRequest) Reset()         {}
func (m *listRequest) String() string { return m.query }
func (m *listRequest) ProtoMessage()  {}
func (m *listRequest) Marshal() ([]byte, error) {
	b := appendField(make([]byte, 0, 40), 0x0a, "ACC-0000-0001")
	b = append(b, 0x12, 0x01, 0x02) // statuses, packed: MEMBERSHIP_STATUS_ACTIVE
	b = appendField(b, 0x22, m.query)
	return append(b, 0x38, 50), nil // page_size
}

// inviteRequest is marketplace.users.v1.InviteUserRequest{account_id, email,
// first_name, last_name, group_ids: [the account's seeded group]}.
type inviteRequest struct {
	account, group, email string
}

func (m *inviteRequest) Reset()         {}
func (m *inviteRequest) String() string { return m.email }
func (m *inviteRequest) ProtoMessage()  {}
func (m *inviteRequest) Marshal() ([]byte, error) {
	b := appendField(make([]byte, 0, 96), 0x0a, m.account)
	b = appendField(b, 0x12, m.email)
	b = appendField(b, 0x1a, "Bench")
	b = appendField(b, 0x22, "Invitee")
	return appendField(b, 0x32, m.group), nil
}
