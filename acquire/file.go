package acquire

import (
	"fmt"
	"io"
	"os"
)

// file is embedded by readers that may own the file they read: opened by
// path, the reader closes it; built on a caller's io.Reader, it does not.
type file struct{ c io.Closer }

func (f *file) own(c io.Closer) { f.c = c }

// Close closes the file the reader opened, if it opened one.
func (f *file) Close() error {
	if f.c == nil {
		return nil
	}
	return f.c.Close()
}

// openWith opens path and builds a reader on it that then owns the file;
// the file is closed again if building fails. what names the kind of file
// in errors.
func openWith[R interface{ own(io.Closer) }](path, what string, build func(io.Reader) (R, error)) (R, error) {
	var zero R
	f, err := os.Open(path)
	if err != nil {
		return zero, fmt.Errorf("open %s: %w", what, err)
	}
	r, err := build(f)
	if err != nil {
		f.Close()
		return zero, err
	}
	r.own(f)
	return r, nil
}
