package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/runtime/pipeline"
)

// crashBot answers every message with an echo and then sets a short timer,
// so that at any moment of a load most contacts have a timer due soon.
const crashBot = `switchboard: 1
id: bot
name: Crash test bot
skills:
  /start:
    - text: "echo: {{ message.text }}"
    - timer: 2s
      interruptible: true
    - text: "timer fired"
  /default:
    - text: "echo: {{ message.text }}"
    - timer: 2s
      interruptible: true
    - text: "timer fired"
`

const timerText = "timer fired"

func writeCrashBot(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bot.yaml"), []byte(crashBot), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

type storedMessage struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Direction string    `json:"direction"`
	Content   struct {
		Text string `json:"text"`
	} `json:"content"`
}

func (s *server) messages(t *testing.T, token, sender string) []storedMessage {
	t.Helper()
	var out struct {
		Messages []storedMessage `json:"messages"`
	}
	id := pipeline.ContactID("bot", "rest", sender)
	s.do(t, token, http.MethodGet, "/api/v1/contacts/"+id+"/messages?limit=500", "", &out)
	return out.Messages
}

// sendREST posts one message and reports whether the server acknowledged
// it (200) with the expected echo.
func sendREST(c *http.Client, base, sender, text string) (acked bool, err error) {
	body, _ := json.Marshal(map[string]string{"sender": sender, "message": text})
	resp, err := c.Post(base+"/webhooks/rest/bot/webhook", "application/json", bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return false, err
	}
	var replies []struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(b, &replies); err != nil {
		return false, nil
	}
	for _, r := range replies {
		if r.Text == "echo: "+text {
			return true, nil
		}
	}
	return false, fmt.Errorf("200 without the echo of %q: %s", text, b)
}

// TestKillDuringLoad kills the server with SIGKILL while users are sending
// messages, restarts it on the same data folder, and checks that every
// acknowledged message and its reply are stored and that the timers set
// before the crash fire after the restart.
func TestKillDuringLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	const (
		users     = 20
		perUser   = 30
		killAfter = 200 // acknowledged messages before the kill
	)
	bots := writeCrashBot(t)
	data := t.TempDir()
	srv := startServer(t, "--data", data, "--bots", bots, "--ip-rate", "0")

	var (
		mu      sync.Mutex
		acked   = map[string][]string{} // sender → acknowledged texts, in order
		nAcked  atomic.Int64
		killNow = make(chan struct{})
		once    sync.Once
		wrong   []string
	)
	client := &http.Client{Timeout: 5 * time.Second}
	var wg sync.WaitGroup
	for u := 0; u < users; u++ {
		sender := fmt.Sprintf("user-%02d", u)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perUser; i++ {
				text := fmt.Sprintf("msg %s #%d", sender, i)
				ok, err := sendREST(client, srv.base, sender, text)
				if ok {
					mu.Lock()
					acked[sender] = append(acked[sender], text)
					mu.Unlock()
					if nAcked.Add(1) >= killAfter {
						once.Do(func() { close(killNow) })
					}
				} else if err != nil {
					if strings.Contains(err.Error(), "without the echo") {
						mu.Lock()
						wrong = append(wrong, err.Error())
						mu.Unlock()
					}
					return // the server is gone
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	loadDone := make(chan struct{})
	go func() { wg.Wait(); close(loadDone) }()
	select {
	case <-killNow:
	case <-loadDone:
		t.Log("the load ended before the kill threshold; killing now")
	case <-time.After(60 * time.Second):
		t.Fatal("the load did not reach the kill threshold within 60s")
	}
	killedAt := time.Now()
	srv.kill()
	select {
	case <-loadDone:
	case <-time.After(30 * time.Second):
		t.Fatal("load clients did not stop within 30s of the kill")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(wrong) > 0 {
		t.Fatalf("answers without the expected echo:\n%s", strings.Join(wrong, "\n"))
	}
	t.Logf("%d messages acknowledged before SIGKILL", nAcked.Load())

	restarted := time.Now()
	srv2 := startServer(t, "--data", data, "--bots", bots, "--ip-rate", "0")
	t.Logf("restart ready in %v", time.Since(restarted).Round(time.Millisecond))
	token := srv2.login(t)

	// Every acknowledged message and its echo are stored right away.
	for sender, texts := range acked {
		ms := srv2.messages(t, token, sender)
		for _, text := range texts {
			in := -1
			for i, m := range ms {
				if m.Direction == "in" && m.Content.Text == text {
					in = i
					break
				}
			}
			if in < 0 {
				t.Errorf("%s: acknowledged message %q is not in the store after the restart", sender, text)
				continue
			}
			answered := false
			for _, m := range ms[in+1:] {
				if m.Direction == "out" && m.Content.Text == "echo: "+text {
					answered = true
					break
				}
			}
			if !answered {
				t.Errorf("%s: acknowledged message %q has no stored reply after the restart", sender, text)
			}
		}
	}
	if t.Failed() {
		return
	}

	// Every contact's last timer fires: each conversation ends with the
	// timer's message after its last inbound message.
	const timerWait = 20 * time.Second
	deadline := time.Now().Add(timerWait)
	var pending []string
	firedAfterRestart := 0
	for {
		pending = pending[:0]
		firedAfterRestart = 0
		for sender := range acked {
			ms := srv2.messages(t, token, sender)
			lastIn := -1
			for i, m := range ms {
				if m.Direction == "in" {
					lastIn = i
				}
			}
			fired := false
			for _, m := range ms[lastIn+1:] {
				if m.Direction == "out" && m.Content.Text == timerText {
					fired = true
					if m.Time.After(killedAt) {
						firedAfterRestart++
					}
				}
			}
			if !fired {
				pending = append(pending, sender)
			}
		}
		if len(pending) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if len(pending) > 0 {
		t.Fatalf("timers set before the crash did not fire within %v of the restart for %d contact(s): %s",
			timerWait, len(pending), strings.Join(pending, ", "))
	}
	if firedAfterRestart == 0 {
		t.Fatalf("no timer was pending at the kill: the test did not exercise timer recovery")
	}
	t.Logf("%d of %d contacts' timers were pending at the kill and fired after the restart", firedAfterRestart, len(acked))
}

// TestSIGTERMStops checks the graceful stop: after SIGTERM the server exits
// 0 within 10 seconds.
func TestSIGTERMStops(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	srv := startServer(t, "--data", t.TempDir(), "--bots", writeCrashBot(t), "--ip-rate", "0")
	client := &http.Client{Timeout: 5 * time.Second}
	for i := 0; i < 5; i++ {
		if ok, err := sendREST(client, srv.base, "term-user", fmt.Sprintf("hello %d", i)); !ok {
			t.Fatalf("message %d not acknowledged: %v", i, err)
		}
	}
	// A timer is pending and a client keeps a connection open: neither may
	// hold up the stop.
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	select {
	case <-srv.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the server did not stop within 10s of SIGTERM:\n%s", srv.out.tail())
	}
	took := time.Since(start)
	if srv.waitEr != nil {
		t.Fatalf("the server exited with %v after SIGTERM:\n%s", srv.waitEr, srv.out.tail())
	}
	t.Logf("stopped %v after SIGTERM, exit code 0", took.Round(time.Millisecond))
}
