// Package shareddata locates the reference data that lives beside the
// repository in ../shared (real recordings, SciPy test vectors) for tests.
// The data is never copied into the repository. When it is missing a test
// is skipped with a clear message, unless BCI_REQUIRE_SHARED=1 (as in CI),
// which makes its absence a failure.
package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the shared directory, or ends the test (skip or fail).
func Dir(t testing.TB) string {
	t.Helper()
	root, err := moduleRoot()
	if err == nil {
		dir := filepath.Join(root, "..", "shared")
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			return dir
		}
	}
	missing(t, "../shared (beside the repository)")
	return ""
}

// Path returns a path inside the shared directory that must exist, or ends
// the test (skip or fail).
func Path(t testing.TB, elems ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{Dir(t)}, elems...)...)
	if _, err := os.Stat(p); err != nil {
		missing(t, p)
	}
	return p
}

func missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("BCI_REQUIRE_SHARED") == "1" {
		t.Fatalf("shared reference data %s is missing and BCI_REQUIRE_SHARED=1", what)
	}
	t.Skipf("shared reference data %s is missing; skipping (set BCI_REQUIRE_SHARED=1 to fail instead)", what)
}

// moduleRoot walks up from the working directory to the folder holding
// go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
