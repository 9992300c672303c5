package main

import (
	"encoding/json"
	"fmt"
	"io"
)

// writeJSONLine writes v as one line of JSON, the last line of a command's
// output when --json is given.
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
