package webchat_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard-bots/switchboard/runtime/webchat"
)

func TestLoadOrCreateSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "webchat.secret")
	a, err := webchat.LoadOrCreateSecret(path)
	if err != nil || len(a) != 32 {
		t.Fatalf("%x %v", a, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%v %v", fi, err)
	}
	b, err := webchat.LoadOrCreateSecret(path)
	if err != nil || !bytes.Equal(a, b) {
		t.Fatal("the secret changed")
	}
	os.WriteFile(path, []byte("short"), 0o600)
	if _, err := webchat.LoadOrCreateSecret(path); err == nil {
		t.Fatal("a bad secret file was accepted")
	}
}
