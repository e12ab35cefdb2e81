package fetch

import (
	"bytes"
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
)

// toUTF8 returns the document as UTF-8, so that gofeed always reads UTF-8
// and never has to guess. gofeed alone honours only an XML declaration it
// can map to a decoder; it ignores the HTTP charset, fails on UTF-16, on
// labels it does not know and on invalid UTF-8. The order of evidence:
//
//  1. a byte order mark (UTF-8, UTF-16LE, UTF-16BE);
//  2. the XML declaration's encoding, when it names a known encoding;
//  3. the charset parameter of the HTTP Content-Type;
//  4. UTF-8, the default of XML and the only encoding of JSON.
//
// Servers often send a generic "charset=ISO-8859-1" for documents that are
// in fact UTF-8: when the HTTP charset is a single-byte legacy encoding but
// the body is valid UTF-8 with multi-byte sequences (which Latin text almost
// never forms by accident), the body wins. A body that claims UTF-8 but is
// not valid UTF-8 is read as windows-1252 when it holds no multi-byte UTF-8
// sequence at all (a mislabelled legacy document), else its invalid bytes
// become U+FFFD.
//
// When the document is transcoded, the encoding in its XML declaration is
// removed so that the parser does not decode it a second time. body may be
// returned as is, or a new slice.
func toUTF8(body []byte, contentType string) ([]byte, error) {
	switch {
	case bytes.HasPrefix(body, []byte{0xEF, 0xBB, 0xBF}):
		return validUTF8(body[3:]), nil
	case bytes.HasPrefix(body, []byte{0xFF, 0xFE}), bytes.HasPrefix(body, []byte{0xFE, 0xFF}):
		out, err := unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder().Bytes(body)
		if err != nil {
			return nil, fmt.Errorf("decode UTF-16: %w", err)
		}
		return dropDeclaredEncoding(out), nil
	case len(body) >= 4 && body[0] == '<' && body[1] == 0 && body[2] != 0 && body[3] == 0:
		return transcode(body, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "UTF-16LE")
	case len(body) >= 4 && body[0] == 0 && body[1] == '<' && body[2] == 0 && body[3] != 0:
		return transcode(body, unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "UTF-16BE")
	}

	if label := declaredEncoding(body); label != "" {
		if isUTF8Label(label) {
			return validUTF8(body), nil
		}
		if strings.HasPrefix(strings.ToLower(label), "utf-16") {
			// The declaration was readable as ASCII, so the document is
			// not UTF-16 whatever it says (a common copy-paste mistake).
			return validUTF8(dropDeclaredEncoding(body)), nil
		}
		if enc, err := htmlindex.Get(label); err == nil {
			if isUTF8Encoding(enc) {
				return validUTF8(body), nil
			}
			return transcode(body, enc, label)
		}
		// An encoding nobody knows: fall through to the HTTP charset or
		// UTF-8, and drop the label so that the parser does not choke on it.
		body = dropDeclaredEncoding(body)
	}

	if label := httpCharset(contentType); label != "" && !isUTF8Label(label) {
		if enc, err := htmlindex.Get(label); err == nil && !isUTF8Encoding(enc) {
			if utf8.Valid(body) && hasMultiByte(body) {
				return body, nil
			}
			return transcode(body, enc, label)
		}
	}
	return validUTF8(body), nil
}

func transcode(body []byte, enc encoding.Encoding, label string) ([]byte, error) {
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", label, err)
	}
	return dropDeclaredEncoding(out), nil
}

// validUTF8 returns body if it is valid UTF-8, and otherwise its best UTF-8
// reading (see toUTF8).
func validUTF8(body []byte) []byte {
	if utf8.Valid(body) {
		return body
	}
	if !hasMultiByte(body) {
		if out, err := charmap.Windows1252.NewDecoder().Bytes(body); err == nil {
			return out
		}
	}
	return bytes.ToValidUTF8(body, []byte("\uFFFD"))
}

// hasMultiByte reports whether b contains at least one valid multi-byte
// UTF-8 sequence.
func hasMultiByte(b []byte) bool {
	for len(b) > 0 {
		i := bytes.IndexFunc(b, func(r rune) bool { return r >= utf8.RuneSelf })
		if i < 0 {
			return false
		}
		b = b[i:]
		r, size := utf8.DecodeRune(b)
		if r != utf8.RuneError && size > 1 {
			return true
		}
		b = b[1:]
	}
	return false
}

func isUTF8Label(label string) bool {
	return strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "utf8")
}

func isUTF8Encoding(enc encoding.Encoding) bool {
	name, err := htmlindex.Name(enc)
	return err == nil && name == "utf-8"
}

// httpCharset returns the charset parameter of a Content-Type, or "".
func httpCharset(contentType string) string {
	if contentType == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(params["charset"])
}

// xmlDecl returns the XML declaration at the start of body (after optional
// white space) as the offsets of its "<?xml" and "?>", or -1, -1.
func xmlDecl(body []byte) (start, end int) {
	i := 0
	for i < len(body) && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n') {
		i++
	}
	if !bytes.HasPrefix(body[i:], []byte("<?xml")) {
		return -1, -1
	}
	// A declaration is short; do not scan a huge body for "?>".
	limit := min(len(body), i+512)
	j := bytes.Index(body[i:limit], []byte("?>"))
	if j < 0 {
		return -1, -1
	}
	return i, i + j + 2
}

// declaredEncoding returns the encoding pseudo-attribute of the XML
// declaration, or "".
func declaredEncoding(body []byte) string {
	start, end := xmlDecl(body)
	if start < 0 {
		return ""
	}
	_, val, _, ok := encodingAttr(body[start:end])
	if !ok {
		return ""
	}
	return strings.TrimSpace(string(val))
}

// encodingAttr finds `encoding="..."` (or single quotes) in an XML
// declaration and returns the offsets of the whole attribute with its
// leading space, and the value.
func encodingAttr(decl []byte) (from int, val []byte, to int, ok bool) {
	i := bytes.Index(decl, []byte("encoding"))
	if i < 0 {
		return 0, nil, 0, false
	}
	j := i + len("encoding")
	for j < len(decl) && (decl[j] == ' ' || decl[j] == '\t') {
		j++
	}
	if j >= len(decl) || decl[j] != '=' {
		return 0, nil, 0, false
	}
	j++
	for j < len(decl) && (decl[j] == ' ' || decl[j] == '\t') {
		j++
	}
	if j >= len(decl) || (decl[j] != '"' && decl[j] != '\'') {
		return 0, nil, 0, false
	}
	q := decl[j]
	k := bytes.IndexByte(decl[j+1:], q)
	if k < 0 {
		return 0, nil, 0, false
	}
	from = i
	for from > 0 && (decl[from-1] == ' ' || decl[from-1] == '\t' || decl[from-1] == '\r' || decl[from-1] == '\n') {
		from--
	}
	return from, decl[j+1 : j+1+k], j + 1 + k + 1, true
}

// dropDeclaredEncoding removes the encoding pseudo-attribute from the XML
// declaration, if any, in a copy of body (or body itself when there is
// nothing to remove and body is already a private copy).
func dropDeclaredEncoding(body []byte) []byte {
	start, end := xmlDecl(body)
	if start < 0 {
		return body
	}
	from, _, to, ok := encodingAttr(body[start:end])
	if !ok {
		return body
	}
	out := make([]byte, 0, len(body))
	out = append(out, body[:start+from]...)
	out = append(out, body[start+to:]...)
	return out
}
