package bus_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/bus"
)

func TestParseSwapRequest(t *testing.T) {
	req, err := bus.ParseSwapRequest([]byte(`{"model":"0123abcdef"}`))
	require.NoError(t, err)
	assert.Equal(t, "0123abcdef", req.Model)
	for _, bad := range []string{``, `{}`, `{"model":""}`, `{"model":"../../etc"}`, `{"model":"ab","extra":1}`, `{"model":"ab"}{"model":"cd"}`, `[1]`, `{"model":7}`} {
		_, err := bus.ParseSwapRequest([]byte(bad))
		assert.Error(t, err, bad)
	}
}

func FuzzParseSwapRequest(f *testing.F) {
	f.Add([]byte(`{"model":"0123abcdef"}`))
	f.Add([]byte(`{"model":""}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		req, err := bus.ParseSwapRequest(p)
		if err == nil && req.Model == "" {
			t.Fatal("accepted a request without a model")
		}
	})
}
