package fetch

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strings"
)

// tooLargeError is returned by capReader once its limit is passed.
type tooLargeError struct {
	what  string // "response body" or "decompressed body"
	limit int64
}

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("%s exceeds the limit of %s", e.what, byteSize(e.limit))
}

// capReader reads from r and fails with a *tooLargeError when more than limit
// bytes arrive. Unlike io.LimitReader it does not truncate silently: a
// truncated feed would parse into a wrong, partial result.
type capReader struct {
	r     io.Reader
	left  int64
	limit int64
	what  string
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, &tooLargeError{what: c.what, limit: c.limit}
	}
	// Read at most one byte past the limit: enough to know it was passed.
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, &tooLargeError{what: c.what, limit: c.limit}
	}
	return n, err
}

// readBody reads a response body into buf, decompressing gzip and deflate
// itself so that maxBody applies to the decompressed bytes (a gzip bomb
// stops at the cap) and maxWire to the bytes on the wire.
func readBody(body io.Reader, contentEncoding string, maxWire, maxBody int64, buf *bytes.Buffer) error {
	wire := &capReader{r: body, left: maxWire, limit: maxWire, what: "response body"}
	br := bufio.NewReaderSize(wire, 4096)
	var r io.Reader = br
	switch enc := strings.ToLower(strings.TrimSpace(contentEncoding)); enc {
	case "", "identity":
		// Some servers send a .gz file without saying so.
		if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
			zr, err := gzip.NewReader(br)
			if err != nil {
				return &corruptError{err: err}
			}
			defer zr.Close()
			r = zr
		}
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(br)
		if err != nil {
			return &corruptError{err: err}
		}
		defer zr.Close()
		r = zr
	case "deflate":
		// HTTP's "deflate" is zlib-wrapped (RFC 9110 8.4.1.2), but some
		// servers send a raw DEFLATE stream; the zlib header tells them apart.
		if hdr, _ := br.Peek(2); len(hdr) == 2 && hdr[0]&0x0f == 8 && (uint16(hdr[0])<<8|uint16(hdr[1]))%31 == 0 {
			zr, err := zlib.NewReader(br)
			if err != nil {
				return &corruptError{err: err}
			}
			defer zr.Close()
			r = zr
		} else {
			fr := flate.NewReader(br)
			defer fr.Close()
			r = fr
		}
	default:
		return &corruptError{msg: fmt.Sprintf("unsupported Content-Encoding %q", contentEncoding)}
	}
	what := "decompressed body"
	if r == io.Reader(br) {
		what = "response body"
	}
	_, err := buf.ReadFrom(&capReader{r: r, left: maxBody, limit: maxBody, what: what})
	if r != io.Reader(br) && isCorrupt(err) {
		return &corruptError{err: err}
	}
	return err
}

// corruptError is a body that cannot be decompressed.
type corruptError struct {
	msg string
	err error
}

func (e *corruptError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return "corrupt compressed body: " + e.err.Error()
}

func (e *corruptError) Unwrap() error { return e.err }

func isCorrupt(err error) bool {
	var ce flate.CorruptInputError
	return errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) ||
		errors.Is(err, zlib.ErrHeader) || errors.Is(err, zlib.ErrChecksum) || errors.Is(err, zlib.ErrDictionary) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ce)
}

// byteSize formats n bytes for people: 10 MiB, 512 KiB, 300 bytes.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
