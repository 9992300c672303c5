package decoder

import (
	"fmt"
	"os"
	"path/filepath"
)

// writeFile writes b to path through a temporary file and a rename, so a
// crash never leaves a half-written model where a decoder would load it.
func writeFile(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".model-*")
	if err != nil {
		return fmt.Errorf("decoder: save model: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("decoder: save model: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("decoder: save model: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("decoder: save model: %w", err)
	}
	return nil
}
