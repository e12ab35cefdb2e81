package fetch

import (
	"strings"
	"testing"
)

func TestXMLDepth(t *testing.T) {
	tests := []struct {
		name, doc string
		want      int
	}{
		{"flat", `<?xml version="1.0"?><rss><channel><item><title>a</title></item></channel></rss>`, 4},
		{"self-closing", `<a><b/><c x="1"/><d></d></a>`, 2},
		{"comments and CDATA", `<a><!-- <b><c> --><![CDATA[<x><y><z>]]></a>`, 1},
		{"quoted >", `<a title="x>y"><b></b></a>`, 2},
		{"unclosed inner elements close with the parent", `<a><p>one<p>two<p>three</a><b></b>`, 4},
		{"void elements do not count", `<a>` + strings.Repeat("<br>", 500) + strings.Repeat("<img src='x'>", 500) + `</a>`, 1},
		{"deep", strings.Repeat("<x:a>", 300) + strings.Repeat("</x:a>", 300), 257},
		{"doctype", `<!DOCTYPE rss><rss></rss>`, 1},
		{"unterminated tag", `<a><b`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := xmlDepth([]byte(tt.doc), 256); got != tt.want {
				t.Errorf("xmlDepth = %d, want %d", got, tt.want)
			}
		})
	}
}
