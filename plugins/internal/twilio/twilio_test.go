package twilio

import (
	"net/url"
	"testing"
)

// TestSignatureDocumentedExample checks the example of Twilio's security
// documentation ("Validating signatures from Twilio").
func TestSignatureDocumentedExample(t *testing.T) {
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+14158675310"},
		"Digits":  {"1234"},
		"From":    {"+14158675310"},
		"To":      {"+18005551212"},
	}
	const u = "https://mycompany.com/myapp.php?foo=1&bar=2"
	const want = "GvWf1cFY/Q7PnoempGyD5oXAezc="
	if got := Signature("12345", u, params); got != want {
		t.Fatalf("Signature = %s, want %s", got, want)
	}
	if !ValidSignature("12345", u, params, want) {
		t.Error("the documented signature is not valid")
	}
	for _, bad := range []string{"", "GvWf1cFY/Q7PnoempGyD5oXAezd=", want + "x"} {
		if ValidSignature("12345", u, params, bad) {
			t.Errorf("signature %q is valid", bad)
		}
	}
	params.Set("Digits", "1235")
	if ValidSignature("12345", u, params, want) {
		t.Error("a changed parameter keeps the signature valid")
	}
}

func TestSignedURL(t *testing.T) {
	for _, c := range []struct{ hook, query, want string }{
		{"https://x.example/hooks/b/sms", "", "https://x.example/hooks/b/sms"},
		{"https://x.example/hooks/b/sms", "a=1", "https://x.example/hooks/b/sms?a=1"},
		{"https://x.example/hooks/b/sms?old=1", "a=1", "https://x.example/hooks/b/sms?a=1"},
	} {
		if got := SignedURL(c.hook, c.query); got != c.want {
			t.Errorf("SignedURL(%q, %q) = %q, want %q", c.hook, c.query, got, c.want)
		}
	}
}

func TestSender(t *testing.T) {
	f := url.Values{}
	SetSender(f, "MG0123456789abcdef0123456789abcdef")
	if f.Get("MessagingServiceSid") == "" || f.Get("From") != "" {
		t.Errorf("messaging service: %v", f)
	}
	f = url.Values{}
	SetSender(f, "+15005550006")
	if f.Get("From") != "+15005550006" {
		t.Errorf("number: %v", f)
	}
}
